import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import { type AuditEvent, newEvent } from "../audit/events";
import { publishCommitted } from "../audit/producer";
import { forgetCachedCertifications, type Member } from "../cache/user-skills";
import type { Deps } from "../context";
import { chunk, runBatch, type Statement } from "../db/client";
import { auditOutbox, userSkills } from "../db/schema";
import { iso } from "../lib/time";

/** Recorded as `performed_by` of events no person caused. */
export const SYSTEM_ACTOR = "system";

export interface ExpiryOptions {
  batchSize?: number;
  /**
   * Pages per run. Every expired row may cost a KV delete, and Workers allow 1,000 KV operations
   * per invocation: 4 × 200 stays under it. A larger backlog finishes over the next runs.
   */
  maxBatches?: number;
  /** Stop starting new pages after this long (wall time), well inside the cron's limits. */
  budgetMs?: number;
  /**
   * KV deletes this run may still make, shared by the shards of one cron run (Workers allow
   * 1,000 KV operations per invocation, whatever the number of shards); entries past it are kept.
   */
  kvDeletes?: { left: number };
}

export interface ExpirySummary {
  expired: number;
  batches: number;
  users: number;
  /**
   * KV entries not dropped (written within the last second, or KV refused): harmless, since
   * readers judge `expires_at` themselves.
   */
  cacheEntriesKept: number;
  /** True when the run stopped on its budget with overdue rows possibly left. */
  more: boolean;
}

/** 3 bound values per row plus 2 must stay within D1's 100 parameters per statement. */
const ROWS_PER_STATEMENT = 30;

type Candidate = Pick<typeof userSkills.$inferSelect, "id" | "userId" | "skillId" | "makerspaceId" | "expiresAt">;

/**
 * Certified rows whose `expires_at` has passed become `expired`, each with one `skill_expired`
 * event, and their users' KV entries are dropped.
 *
 * Safe to run twice at once: per chunk, the batch first inserts the outbox rows with an
 * `INSERT … SELECT` that joins the candidates to `user_skills` under the same condition as the
 * following `UPDATE` (still certified, still overdue), then runs that UPDATE. The batch is
 * atomic, so a row already flipped by a concurrent run yields neither an event nor a change —
 * and a row flipped here always has its event committed with it.
 */
export async function expireCertifications(deps: Deps, opts: ExpiryOptions = {}): Promise<ExpirySummary> {
  const { batchSize = 200, maxBatches = 4, budgetMs = 20_000, kvDeletes = { left: batchSize * maxBatches } } = opts;
  const at = iso(deps.now);
  const started = Date.now();
  const forgotten = new Set<string>();
  const summary: ExpirySummary = { expired: 0, batches: 0, users: 0, cacheEntriesKept: 0, more: false };

  while (summary.batches < maxBatches && Date.now() - started < budgetMs) {
    const candidates = await deps.db
      .select({
        id: userSkills.id,
        userId: userSkills.userId,
        skillId: userSkills.skillId,
        makerspaceId: userSkills.makerspaceId,
        expiresAt: userSkills.expiresAt,
      })
      .from(userSkills)
      .where(and(eq(userSkills.status, "certified"), lte(userSkills.expiresAt, at)))
      .orderBy(asc(userSkills.expiresAt), asc(userSkills.id))
      .limit(batchSize)
      .all();
    if (candidates.length === 0) return summary;
    summary.batches += 1;

    const eventFor = new Map(candidates.map((c) => [c.id, expiredEvent(deps, c)]));
    const statements: Statement[] = [];
    for (const part of chunk(candidates, ROWS_PER_STATEMENT)) {
      statements.push(conditionalOutboxInsert(deps, at, part, eventFor));
      statements.push(
        deps.db
          .update(userSkills)
          .set({ status: "expired", updatedAt: at })
          .where(
            and(
              inArray(
                userSkills.id,
                part.map((c) => c.id),
              ),
              eq(userSkills.status, "certified"),
              lte(userSkills.expiresAt, at),
            ),
          )
          .returning({ id: userSkills.id, userId: userSkills.userId, makerspaceId: userSkills.makerspaceId }),
      );
    }
    const results = await runBatch(deps.db, statements);
    const changed = results.filter((_, i) => i % 2 === 1).flat() as (Member & { id: string })[];

    const events = changed.map((r) => eventFor.get(r.id)).filter((e): e is AuditEvent => e !== undefined);
    publishCommitted(deps, events);
    const members = [
      ...new Map(changed.map((r) => [memberKey(r), { makerspaceId: r.makerspaceId, userId: r.userId }])).entries(),
    ].filter(([key]) => !forgotten.has(key));
    const dropping = members.slice(0, Math.max(0, kvDeletes.left));
    kvDeletes.left -= dropping.length;
    summary.cacheEntriesKept +=
      members.length -
      dropping.length +
      (await forgetCachedCertifications(
        deps,
        dropping.map(([, m]) => m),
      ));
    for (const [key] of members) forgotten.add(key);
    summary.expired += changed.length;
    summary.users = forgotten.size;
    if (candidates.length < batchSize) return summary;
  }
  return { ...summary, more: true };
}

const memberKey = (m: Member) => `${m.makerspaceId}\u0000${m.userId}`;

function expiredEvent(deps: Deps, c: Candidate): AuditEvent {
  return newEvent(deps, {
    action: "skill_expired",
    makerspaceId: c.makerspaceId,
    userId: c.userId,
    skillId: c.skillId,
    performedBy: SYSTEM_ACTOR,
    reason: "Certification expired",
    metadata: { user_skill_id: c.id, expires_at: c.expiresAt },
  });
}

/** The outbox rows of those candidates that are still certified and overdue when the batch runs. */
function conditionalOutboxInsert(
  deps: Deps,
  at: string,
  part: Candidate[],
  eventFor: Map<string, AuditEvent>,
): Statement {
  const rows = sql.join(
    part.map((c) => {
      const event = eventFor.get(c.id) as AuditEvent;
      return sql`(${event.id}, ${c.id}, ${JSON.stringify(event)})`;
    }),
    sql`, `,
  );
  const v = sql.raw("v");
  return deps.db.insert(auditOutbox).select(
    deps.db
      .select({
        id: sql<string>`${v}.column1`.as("id"),
        payload: sql<string>`${v}.column3`.as("payload"),
        createdAt: sql<string>`${at}`.as("created_at"),
        attempts: sql<number>`0`.as("attempts"),
      })
      .from(sql`(values ${rows}) as ${v}`)
      .innerJoin(userSkills, sql`${userSkills.id} = ${v}.column2`)
      .where(and(eq(userSkills.status, "certified"), lte(userSkills.expiresAt, at))),
  );
}
