import type { Deps } from "../context";
import { chunk, type Db, runBatch, type Statement } from "../db/client";
import { isTransientD1Error } from "../db/retry";
import { skillAuditLogs } from "../db/schema";
import type { AuditEvent } from "./events";

/** Idempotent by event id: a redelivered event is written once. */
export function auditRowStatements(db: Db, events: AuditEvent[]): Statement[] {
  return chunk(events, 10).map((part) =>
    db
      .insert(skillAuditLogs)
      .values(
        part.map((e) => ({
          id: e.id,
          action: e.action,
          userId: e.user_id,
          skillId: e.skill_id,
          makerspaceId: e.makerspace_id,
          performedBy: e.performed_by,
          reason: e.reason,
          metadata: JSON.stringify(e.metadata),
          createdAt: e.created_at,
        })),
      )
      .onConflictDoNothing({ target: skillAuditLogs.id }),
  );
}

export interface WriteOutcome {
  /** Ids of the events whose rows (and `alongside` statements) committed. */
  written: Set<string>;
  /** Ids that could not be written, each with the error D1 gave. */
  failed: Map<string, unknown>;
}

/**
 * Writes the audit rows of `events` (idempotent by event id) with `alongside(ids)` in the same
 * batch — all of them at once, the common case. When D1 rejects that batch for something in it
 * (a constraint, a row it refuses), each event is written alone, so one bad event fails alone
 * instead of holding back the rest of its batch. When D1 itself is unavailable every event fails
 * at once: writing them one by one would only fail a hundred more times.
 */
export async function writeAuditEvents(
  deps: Deps,
  events: AuditEvent[],
  alongside: (ids: string[]) => Statement[] = () => [],
): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { written: new Set(), failed: new Map() };
  if (events.length === 0) return outcome;
  const write = (part: AuditEvent[]) => {
    const ids = part.map((e) => e.id);
    return runBatch(deps.db, [...auditRowStatements(deps.db, part), ...alongside(ids)]);
  };
  try {
    await write(events);
    for (const e of events) outcome.written.add(e.id);
    return outcome;
  } catch (err) {
    if (events.length === 1 || isTransientD1Error(err)) {
      for (const e of events) outcome.failed.set(e.id, err);
      return outcome;
    }
  }
  for (const event of events) {
    try {
      await write([event]);
      outcome.written.add(event.id);
    } catch (err) {
      outcome.failed.set(event.id, err);
    }
  }
  return outcome;
}
