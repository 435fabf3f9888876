import type { Deps } from "../platform/context";
import { chunk, type Db, runBatch, type Statement } from "../platform/db/client";
import { assignShard } from "../platform/db/directory";
import { FAN_OUT_CONCURRENCY, mapBounded } from "../platform/db/fan-out";
import { isTransientD1Error } from "../platform/db/retry";
import { skillAuditLogs } from "../platform/db/schema";
import type { ShardName } from "../platform/db/shards";
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

/** Statements written in the same batch as some events' audit rows, on their shard. */
export type Alongside = (db: Db, ids: string[]) => Statement[];

/**
 * An event belongs to its makerspace's shard — where its change and its outbox row were written.
 * A makerspace with no directory row yet (an event about a makerspace nothing was written for)
 * is placed now, like any first write, so its log is where its later rows will be. (The consumer
 * also groups by it to read each group's webhook subscriptions.)
 */
export async function byShard(deps: Deps, events: AuditEvent[]): Promise<Map<ShardName, AuditEvent[]>> {
  const shardOf = new Map<string, ShardName>();
  for (const ms of new Set(events.map((e) => e.makerspace_id))) {
    shardOf.set(ms, await assignShard(deps.env, ms, deps.now));
  }
  const groups = new Map<ShardName, AuditEvent[]>();
  for (const e of events) {
    const shard = shardOf.get(e.makerspace_id) as ShardName;
    groups.set(shard, [...(groups.get(shard) ?? []), e]);
  }
  return groups;
}

/**
 * Writes the audit rows of `events` (idempotent by event id) with `alongside(db, ids)` in the
 * same batch, on each event's shard — all of a shard's events at once, the common case. When D1
 * rejects that batch for something in it (a constraint, a row it refuses), each event is written
 * alone, so one bad event fails alone instead of holding back the rest of its batch. When D1
 * itself is unavailable every event of that shard fails at once: writing them one by one would
 * only fail a hundred more times.
 */
export async function writeAuditEvents(
  deps: Deps,
  events: AuditEvent[],
  alongside: Alongside = () => [],
): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { written: new Set(), failed: new Map() };
  if (events.length === 0) return outcome;
  let groups: Map<ShardName, AuditEvent[]>;
  try {
    groups = await byShard(deps, events);
  } catch (err) {
    for (const e of events) outcome.failed.set(e.id, err);
    return outcome;
  }
  await mapBounded([...groups], FAN_OUT_CONCURRENCY, ([shard, part]) =>
    writeOnShard(deps.onShard(shard, { kind: "plain" }), part, alongside, outcome),
  );
  return outcome;
}

async function writeOnShard(
  deps: Deps,
  events: AuditEvent[],
  alongside: Alongside,
  outcome: WriteOutcome,
): Promise<void> {
  const write = (part: AuditEvent[]) => {
    const ids = part.map((e) => e.id);
    return runBatch(deps.db, [...auditRowStatements(deps.db, part), ...alongside(deps.db, ids)]);
  };
  try {
    await write(events);
    for (const e of events) outcome.written.add(e.id);
    return;
  } catch (err) {
    if (events.length === 1 || isTransientD1Error(err)) {
      for (const e of events) outcome.failed.set(e.id, err);
      return;
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
}
