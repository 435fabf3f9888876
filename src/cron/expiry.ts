import { type SQL, sql } from "drizzle-orm";
import type { AuditEvent } from "../audit/events";
import { sendCommitted } from "../audit/producer";
import { parsePayload } from "../audit/relay";
import { lapsedSql } from "../certifications/rules";
import type { Deps } from "../platform/context";
import { changesOf, runBatch, type Statement, valuesOf } from "../platform/db/client";
import { auditOutbox, equipment, skillAuditLogs, skillEquipment, userSkills } from "../platform/db/schema";
import { newIdSql } from "../platform/ids";
import { iso } from "../platform/time";
import { listeningMakerspaces } from "../webhooks/fan-out";

/** Recorded as `performed_by` of events no person caused. */
export const SYSTEM_ACTOR = "system";

export interface ExpiryOptions {
  /** Rows per chunk: one D1 batch of three set-based statements. */
  batchSize?: number;
  /** Chunks per run: 100 × 5,000 = 500,000 rows in 300 D1 queries (Workers allow 1,000). */
  maxBatches?: number;
  /** Stop starting new chunks after this long (wall time), well inside the cron's 15 minutes. */
  budgetMs?: number;
}

export interface ExpirySummary {
  expired: number;
  batches: number;
  /** `skill_expired` events also sent to the audit queue, for the webhooks that listen for them. */
  webhookEvents: number;
  /** True when the run stopped on its budget with overdue rows possibly left (the next run goes on). */
  more: boolean;
}

/**
 * Certified rows whose `expires_at` has passed become `expired`, each with one `skill_expired`
 * audit row, and the allow-list versions of the items linked to their skills are bumped — all in
 * SQL, a chunk at a time, with no per-row round trip and no KV operation (readers judge
 * `expires_at` themselves, and KV entries age out), so one hourly run keeps up with hundreds of
 * thousands of rows within Workers' 1,000 D1 queries per invocation.
 *
 * One chunk is one D1 batch (atomic, and D1 runs batches one at a time) of three statements over
 * the same chunk — the oldest `batchSize` overdue certified rows, a deterministic read of rows
 * the first two statements do not touch: insert their audit rows, bump their items' versions,
 * flip them. The audit rows go straight into `skill_audit_logs` rather than through the outbox
 * and the queue: the cron is not a request path, and writing them with the change they record is
 * the outbox's guarantee without 100,000 queue messages. Two runs at once cannot double an event:
 * the second batch no longer finds the rows the first flipped.
 *
 * `certification.expired` webhooks are fed by the audit queue's consumer, which these rows bypass.
 * So in the makerspaces where an active webhook listens for that event (one query per run), the
 * chunk's batch also copies their events into the outbox (a fourth statement, between the audit
 * rows and the flip), and the run sends them to the audit queue once the batch has committed: the
 * consumer finds their rows written already (it writes by event id), clears the outbox rows and fans
 * the events out. A send that fails leaves them to the relay. Makerspaces without such a webhook
 * cost nothing more.
 */
export async function expireCertifications(deps: Deps, opts: ExpiryOptions = {}): Promise<ExpirySummary> {
  const { batchSize = 5000, maxBatches = 100, budgetMs = 600_000 } = opts;
  const at = iso(deps.now);
  const started = Date.now();
  const summary: ExpirySummary = { expired: 0, batches: 0, webhookEvents: 0, more: false };
  const listening = await listeningMakerspaces(deps, "certification.expired");
  const chunk = sql`(select ${userSkills.id} from ${userSkills}
    where ${lapsedSql(at)}
    order by ${userSkills.expiresAt} limit ${batchSize})`;

  while (summary.batches < maxBatches && Date.now() - started < budgetMs) {
    const results = await runBatch(deps.db, [
      expiredEventRows(deps, chunk, at),
      ...(listening.length > 0 ? [expiredOutboxRows(deps, chunk, at, listening)] : []),
      deps.db
        .update(equipment)
        .set({ allowlistVersion: sql`${equipment.allowlistVersion} + 1` })
        .where(
          sql`${equipment.id} in (select ${skillEquipment.equipmentId} from ${skillEquipment}
            where ${skillEquipment.skillId} in (select ${userSkills.skillId} from ${userSkills} where ${userSkills.id} in ${chunk}))`,
        ),
      deps.db.update(userSkills).set({ status: "expired", updatedAt: at }).where(sql`${userSkills.id} in ${chunk}`),
    ]);
    const expired = changesOf(results[results.length - 1]);
    summary.batches += 1;
    summary.expired += expired;
    if (listening.length > 0) {
      const events = ((results[1] ?? []) as { payload: string }[])
        .map((r) => parsePayload(r.payload))
        .filter((e): e is AuditEvent => e !== null);
      await sendCommitted(deps, events);
      summary.webhookEvents += events.length;
    }
    if (expired < batchSize) return summary;
  }
  return { ...summary, more: true };
}

/** `insert … select`: one `skill_expired` row per certification of the chunk. */
function expiredEventRows(deps: Deps, chunk: SQL, at: string) {
  return deps.db.insert(skillAuditLogs).select(
    sql`select ${newIdSql("evt", deps)}, 'skill_expired', ${userSkills.userId}, ${userSkills.skillId},
      ${userSkills.makerspaceId}, ${SYSTEM_ACTOR}, 'Certification expired',
      json_object('user_skill_id', ${userSkills.id}, 'expires_at', ${userSkills.expiresAt}), ${at}
      from ${userSkills} where ${userSkills.id} in ${chunk}`,
  );
}

/**
 * `insert … select … returning`: the outbox rows of the chunk's `skill_expired` events (just
 * written by `expiredEventRows`) in the makerspaces given, each payload the event as the queue
 * carries it.
 */
function expiredOutboxRows(deps: Deps, chunk: SQL, at: string, makerspaceIds: string[]): Statement {
  const l = skillAuditLogs;
  return deps.db
    .insert(auditOutbox)
    .select(
      sql`select ${l.id}, json_object('id', ${l.id}, 'action', ${l.action}, 'user_id', ${l.userId},
        'skill_id', ${l.skillId}, 'makerspace_id', ${l.makerspaceId}, 'performed_by', ${l.performedBy},
        'reason', ${l.reason}, 'metadata', json(${l.metadata}), 'created_at', ${l.createdAt}), ${l.createdAt}, 0
        from ${l} where ${l.makerspaceId} in ${valuesOf(makerspaceIds)} and ${l.action} = 'skill_expired'
          and ${l.createdAt} = ${at} and json_extract(${l.metadata}, '$.user_skill_id') in ${chunk}`,
    )
    .onConflictDoNothing({ target: auditOutbox.id })
    .returning({ payload: auditOutbox.payload });
}
