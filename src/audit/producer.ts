import type { SQL } from "drizzle-orm";
import type { Deps } from "../context";
import { chunk, type Db, insertWhere, runBatch, type Statement } from "../db/client";
import { auditOutbox, skillAuditLogs } from "../db/schema";
import { errorText } from "../lib/logger";
import { sendAll } from "../lib/queue";
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
        error: errorText(err),
      });
    }),
  );
}

/**
 * Events that record no state change (verify) are buffered per isolate for a few milliseconds
 * and sent as one batch: a busy door or kiosk fleet then pays one queue send per window instead
 * of one per check. The request that opens a window keeps its invocation alive (waitUntil) until
 * the window's batch is sent; requests that join it only add data, so no promise or I/O crosses
 * from one request's context into another's. A request that fills a window sends it at once under
 * its own waitUntil. When the queue refuses a batch, it is written straight to the audit table.
 */
const DIRECT_WINDOW_MS = 20;
const DIRECT_MAX_EVENTS = 100;
const openWindows = new Map<Queue, AuditEvent[]>();

export function publishDirect(deps: Deps, events: AuditEvent[]): void {
  if (events.length === 0) return;
  const queue = deps.env.AUDIT_QUEUE;
  const open = openWindows.get(queue);
  if (open) {
    open.push(...events);
    if (open.length >= DIRECT_MAX_EVENTS) {
      openWindows.delete(queue);
      deps.waitUntil(deliverDirect(deps, open.splice(0)));
    }
    return;
  }
  const window = [...events];
  openWindows.set(queue, window);
  deps.waitUntil(
    new Promise((resolve) => setTimeout(resolve, DIRECT_WINDOW_MS)).then(() => {
      if (openWindows.get(queue) === window) openWindows.delete(queue);
      return deliverDirect(deps, window.splice(0));
    }),
  );
}

async function deliverDirect(deps: Deps, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await sendEvents(deps.env.AUDIT_QUEUE, events).catch(async (err: unknown) => {
    deps.logger.warn("audit send failed; writing directly", {
      events: events.length,
      error: errorText(err),
    });
    await runBatch(deps.db, auditRowStatements(deps.db, events));
  });
}

export async function sendEvents(queue: Queue, events: AuditEvent[]): Promise<void> {
  await sendAll(queue, events);
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
