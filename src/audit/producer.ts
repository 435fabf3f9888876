import type { SQL } from "drizzle-orm";
import type { Deps } from "../platform/context";
import { chunk, type Db, insertWhere, type Statement } from "../platform/db/client";
import { auditOutbox } from "../platform/db/schema";
import { errorText } from "../platform/logger";
import { sendAll } from "../platform/queue";
import { archiveAccessEvents } from "./archive";
import type { AuditEvent } from "./events";
import { writeAuditEvents } from "./writer";

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
 * After the batch committed: hand the events to the queue off the response path, in the same
 * per-isolate windows as `publishDirect` (a queue send per window, not per change). A failed send
 * is only logged — the outbox row stays and the cron re-sends it.
 */
export function publishCommitted(deps: Deps, events: AuditEvent[]): void {
  enqueue(deps, events, true);
}

/**
 * {@link publishCommitted} for work that already runs off the response path (the crons, renewal
 * by use): send now, in one call. A failed send is only logged — the outbox rows stay for the cron.
 */
export async function sendCommitted(deps: Deps, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await sendEvents(deps.env.AUDIT_QUEUE, events).catch((err: unknown) => {
    deps.logger.warn("audit send failed; left in outbox for the cron", {
      events: events.length,
      error: errorText(err),
    });
  });
}

/**
 * Events are buffered per isolate for a few milliseconds and sent as one batch: a busy door or
 * kiosk fleet, or a burst of grants, then pays one queue send per window instead of one per
 * request. The request that opens a window keeps its invocation alive (waitUntil) until the
 * window's batch is sent; requests that join it only add data, so no promise or I/O crosses from
 * one request's context into another's. A request that fills a window sends it at once under its
 * own waitUntil. Events that record no state change (verify's) have no outbox row: when the queue
 * refuses them they are written straight to the audit table.
 */
const DIRECT_WINDOW_MS = 20;
const DIRECT_MAX_EVENTS = 100;

/** An event, the request that produced it (named in the log should it be lost), and whether an outbox row holds it. */
interface Pending {
  event: AuditEvent;
  requestId: string;
  committed: boolean;
}
const openWindows = new Map<Queue, Pending[]>();

let droppedEvents = 0;

/** Events this isolate could neither send nor write (each also logged with its request id). */
export function droppedAuditEvents(): number {
  return droppedEvents;
}

export function publishDirect(deps: Deps, events: AuditEvent[]): void {
  enqueue(deps, events, false);
}

function enqueue(deps: Deps, events: AuditEvent[], committed: boolean): void {
  if (events.length === 0) return;
  const pending = events.map((event) => ({ event, requestId: deps.requestId, committed }));
  const queue = deps.env.AUDIT_QUEUE;
  const open = openWindows.get(queue);
  if (open) {
    open.push(...pending);
    if (open.length >= DIRECT_MAX_EVENTS) {
      openWindows.delete(queue);
      deps.waitUntil(deliver(deps, open.splice(0)));
    }
    return;
  }
  const window = [...pending];
  openWindows.set(queue, window);
  deps.waitUntil(
    new Promise((resolve) => setTimeout(resolve, DIRECT_WINDOW_MS)).then(() => {
      if (openWindows.get(queue) === window) openWindows.delete(queue);
      return deliver(deps, window.splice(0));
    }),
  );
}

/**
 * Sends a window's events. Should the queue refuse them: committed events are left in the outbox
 * for the cron; the others are written straight to D1 (one bad event failing alone), and one that
 * fails both ways — it has no outbox row to fall back on — is counted and logged as an error with
 * its id, action and the request that produced it.
 */
async function deliver(deps: Deps, pending: Pending[]): Promise<void> {
  if (pending.length === 0) return;
  let sendError: unknown;
  try {
    await sendEvents(
      deps.env.AUDIT_QUEUE,
      pending.map((p) => p.event),
    );
    return;
  } catch (err) {
    sendError = err;
  }
  const inOutbox = pending.filter((p) => p.committed).length;
  if (inOutbox > 0) {
    deps.logger.warn("audit send failed; left in outbox for the cron", {
      events: inOutbox,
      error: errorText(sendError),
    });
  }
  const direct = pending.filter((p) => !p.committed);
  if (direct.length === 0) return;
  const events = direct.map((p) => p.event);
  deps.logger.warn("audit send failed; writing directly", { events: events.length, error: errorText(sendError) });
  // Archived first, as the consumer does; should R2 refuse too, D1 still gets them (logged: the
  // archive will lack them once D1's retention drops them).
  const archive = await archiveAccessEvents(deps.env.AUDIT_ARCHIVE, events);
  if (archive.failed.size > 0) {
    deps.logger.error("access events written to D1 without their archive copy", {
      event_ids: [...archive.failed.keys()].slice(0, 20),
      error: errorText(archive.failed.values().next().value),
    });
  }
  const { failed } = await writeAuditEvents(deps, events);
  if (failed.size === 0) return;
  droppedEvents += failed.size;
  const lost = direct.filter((p) => failed.has(p.event.id));
  deps.logger.error("audit events lost: queue send and direct write both failed", {
    events: lost.length,
    lost: lost.map((p) => ({ event_id: p.event.id, action: p.event.action, request_id: p.requestId })),
    error: errorText(failed.values().next().value),
  });
}

export async function sendEvents(queue: Queue, events: AuditEvent[]): Promise<void> {
  await sendAll(queue, events);
}

/**
 * An outbox row inserted only when `condition` holds at that point of the batch, so an event is
 * recorded exactly when the change it describes is (the conditional twin of outboxStatements).
 */
export function guardedOutboxStatement(db: Db, event: AuditEvent, condition: SQL): Statement {
  const row = { id: event.id, payload: JSON.stringify(event), createdAt: event.created_at, attempts: 0 };
  return insertWhere(db, auditOutbox, row, condition);
}
