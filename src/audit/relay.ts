import { and, asc, lte, sql } from "drizzle-orm";
import type { Deps } from "../platform/context";
import { pastPosition, runBatch, type Statement, valuesOf } from "../platform/db/client";
import { auditDeadLetters, auditOutbox } from "../platform/db/schema";
import { errorText } from "../platform/logger";
import { addSeconds, iso } from "../platform/time";
import { type AuditEvent, AuditEventSchema } from "./events";
import { sendEvents } from "./producer";

export interface RelayOptions {
  /** Rows younger than this are probably still on their way from the request that wrote them. */
  minAgeSeconds?: number;
  pageSize?: number;
  /** Bounds one run's D1 queries and Queue sends (Workers limits them per invocation). */
  maxPages?: number;
}

export interface RelaySummary {
  relayed: number;
  unreadable: number;
  /** Rows moved to `audit_dead_letters` (unreadable, or out of attempts). */
  deadLettered: number;
  /** True when the run stopped with rows left (send failure or page budget). */
  more: boolean;
}

/** Sends of one outbox row before the relay gives up on it and moves it to the dead letters. */
export const MAX_RELAY_ATTEMPTS = 10;

export const DEAD_LETTER_REASONS = {
  exhausted: `not written after ${MAX_RELAY_ATTEMPTS} relay attempts`,
  unreadable: "unreadable payload",
} as const;

/**
 * Re-sends outbox rows that no consumer has cleared: their send failed, or the Worker stopped
 * between the commit and the send. Each row's `attempts` is counted before its send. A row is
 * sent at most once per run (keyset paging), and a redelivery that races the first one is
 * harmless because the consumer writes by event id. A row already sent MAX_RELAY_ATTEMPTS times
 * (its consumer keeps failing) or whose payload cannot be read is moved to `audit_dead_letters`
 * instead, so one bad event is not re-sent forever and shows in `/health?deep=1`.
 */
export async function relayOutbox(deps: Deps, opts: RelayOptions = {}): Promise<RelaySummary> {
  const { minAgeSeconds = 120, pageSize = 100, maxPages = 10 } = opts;
  const cutoff = iso(addSeconds(deps.now, -minAgeSeconds));
  const summary: RelaySummary = { relayed: 0, unreadable: 0, deadLettered: 0, more: false };
  let after: { createdAt: string; id: string } | undefined;

  for (let page = 0; page < maxPages; page += 1) {
    const rows = await deps.db
      .select({
        id: auditOutbox.id,
        payload: auditOutbox.payload,
        createdAt: auditOutbox.createdAt,
        attempts: auditOutbox.attempts,
      })
      .from(auditOutbox)
      .where(and(lte(auditOutbox.createdAt, cutoff), pastPosition(auditOutbox.createdAt, auditOutbox.id, after, "asc")))
      .orderBy(asc(auditOutbox.createdAt), asc(auditOutbox.id))
      .limit(pageSize)
      .all();
    if (rows.length === 0) return summary;

    const events: AuditEvent[] = [];
    const unreadable: string[] = [];
    const exhausted: string[] = [];
    for (const row of rows) {
      const event = parsePayload(row.payload);
      if (!event) unreadable.push(row.id);
      else if (row.attempts >= MAX_RELAY_ATTEMPTS) exhausted.push(row.id);
      else events.push(event);
    }
    if (unreadable.length > 0 || exhausted.length > 0) {
      await runBatch(deps.db, [
        ...deadLetterStatements(deps, unreadable, DEAD_LETTER_REASONS.unreadable),
        ...deadLetterStatements(deps, exhausted, DEAD_LETTER_REASONS.exhausted),
      ]);
      summary.unreadable += unreadable.length;
      summary.deadLettered += unreadable.length + exhausted.length;
      deps.logger.error("audit events moved to the dead letters", {
        unreadable: unreadable.slice(0, 20),
        exhausted: exhausted.slice(0, 20),
      });
    }
    if (events.length > 0) {
      await deps.db
        .update(auditOutbox)
        .set({ attempts: sql`${auditOutbox.attempts} + 1` })
        .where(sql`${auditOutbox.id} in ${valuesOf(events.map((e) => e.id))}`)
        .run();
      try {
        await sendEvents(deps.env.AUDIT_QUEUE, events);
      } catch (err) {
        deps.logger.warn("audit relay send failed; rows stay for the next run", {
          events: events.length,
          error: errorText(err),
        });
        return { ...summary, more: true };
      }
      summary.relayed += events.length;
    }
    const last = rows[rows.length - 1] as (typeof rows)[number];
    after = { createdAt: last.createdAt, id: last.id };
    if (rows.length < pageSize) return summary;
  }
  return { ...summary, more: true };
}

/** Moves outbox rows to `audit_dead_letters` (copying what the payload says, when it can be read). */
function deadLetterStatements(deps: Deps, ids: string[], reason: string): Statement[] {
  if (ids.length === 0) return [];
  const set = valuesOf(ids);
  const field = (path: string) =>
    sql`case when json_valid(${auditOutbox.payload}) then json_extract(${auditOutbox.payload}, ${path}) end`;
  return [
    deps.db
      .insert(auditDeadLetters)
      .select(
        sql`select ${auditOutbox.id}, ${auditOutbox.payload}, ${field("$.makerspace_id")}, ${field("$.action")},
          ${auditOutbox.createdAt}, ${auditOutbox.attempts}, ${iso(deps.now)}, ${reason}
          from ${auditOutbox} where ${auditOutbox.id} in ${set}`,
      )
      .onConflictDoNothing({ target: auditDeadLetters.id }),
    deps.db.delete(auditOutbox).where(sql`${auditOutbox.id} in ${set}`),
  ];
}

export function parsePayload(payload: string): AuditEvent | null {
  try {
    const parsed = AuditEventSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
