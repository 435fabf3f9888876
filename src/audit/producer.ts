import type { SQL } from "drizzle-orm";
import type { Deps } from "../context";
import { chunk, type Db, insertWhere, runBatch, type Statement } from "../db/client";
import { auditOutbox, skillAuditLogs } from "../db/schema";
import type { AuditEvent } from "./events";

/**
 * The outbox rows for these events: put them in the same `db.batch` as the change they record,
 * so the change and its trail commit together or not at all.
 */
export function outboxStatements(db: Db, events: AuditEvent[]): Statement[] {
  return chunk(events, 20).map((part) =>
    db
      .insert(auditOutbox)
      .values(part.map((e) => ({ id: e.id, payload: JSON.stringify(e), createdAt: e.created_at, attempts: 0 }))),
  );
}

/**
 * After the batch committed: hand the events to the queue off the response path. A failed send
 * is only logged — the outbox row stays and the cron re-sends it.
 */
export function publishCommitted(deps: Deps, events: AuditEvent[]): void {
  if (events.length === 0) return;
  deps.waitUntil(
    sendEvents(deps.env.AUDIT_QUEUE, events).catch((err: unknown) => {
      deps.logger.warn("audit send failed; left in outbox for the cron", {
        events: events.length,
        error: err instanceof Error ? err.message : String(err),
      });
    }),
  );
}

/**
 * Events that record no state change (verify) are buffered per isolate for a few milliseconds
 * and sent as one batch: a busy door or kiosk fleet then pays one queue send per window instead
 * of one per check. Every request that adds an event keeps its invocation alive (waitUntil) until
 * the batch holding it is sent; when the queue refuses it, the batch is written straight to the
 * audit table, so none is lost.
 */
const DIRECT_WINDOW_MS = 20;
const DIRECT_MAX_EVENTS = 100;

interface PendingBatch {
  events: AuditEvent[];
  deps: Deps;
  sent: Promise<void>;
  flushNow: () => void;
}

const pendingByQueue = new Map<Queue, PendingBatch>();

export function publishDirect(deps: Deps, events: AuditEvent[]): void {
  if (events.length === 0) return;
  const queue = deps.env.AUDIT_QUEUE;
  let batch = pendingByQueue.get(queue);
  if (!batch) {
    batch = openBatch(deps, queue);
    pendingByQueue.set(queue, batch);
  }
  batch.events.push(...events);
  deps.waitUntil(batch.sent);
  if (batch.events.length >= DIRECT_MAX_EVENTS) batch.flushNow();
}

function openBatch(deps: Deps, queue: Queue): PendingBatch {
  let release: () => void = () => {};
  const due = new Promise<void>((resolve) => {
    release = resolve;
  });
  const timer = setTimeout(release, DIRECT_WINDOW_MS);
  const batch: PendingBatch = {
    events: [],
    deps,
    flushNow: () => {
      clearTimeout(timer);
      release();
    },
    sent: due.then(async () => {
      if (pendingByQueue.get(queue) === batch) pendingByQueue.delete(queue);
      await sendEvents(queue, batch.events).catch(async (err: unknown) => {
        batch.deps.logger.warn("audit send failed; writing directly", {
          events: batch.events.length,
          error: err instanceof Error ? err.message : String(err),
        });
        await runBatch(batch.deps.db, auditRowStatements(batch.deps.db, batch.events));
      });
    }),
  };
  return batch;
}

/** Queues' sendBatch limits: 100 messages and 256 KB per call; kept under both with headroom. */
const SEND_MAX_MESSAGES = 100;
const SEND_MAX_BYTES = 200 * 1024;
const encoder = new TextEncoder();

export async function sendEvents(queue: Queue, events: AuditEvent[]): Promise<void> {
  let part: AuditEvent[] = [];
  let bytes = 0;
  const flush = async () => {
    if (part.length === 0) return;
    await queue.sendBatch(part.map((body) => ({ body, contentType: "json" as const })));
    part = [];
    bytes = 0;
  };
  for (const event of events) {
    const size = encoder.encode(JSON.stringify(event)).byteLength + 100;
    if (part.length >= SEND_MAX_MESSAGES || bytes + size > SEND_MAX_BYTES) await flush();
    part.push(event);
    bytes += size;
  }
  await flush();
}

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

/**
 * An outbox row inserted only when `condition` holds at that point of the batch, so an event is
 * recorded exactly when the change it describes is (the conditional twin of outboxStatements).
 */
export function guardedOutboxStatement(db: Db, event: AuditEvent, condition: SQL): Statement {
  const row = { id: event.id, payload: JSON.stringify(event), createdAt: event.created_at, attempts: 0 };
  return insertWhere(db, auditOutbox, row, condition);
}
