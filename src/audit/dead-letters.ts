import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Deps } from "../platform/context";
import { changesOf, pastPosition, runBatch } from "../platform/db/client";
import { byKeys } from "../platform/db/fan-out";
import { auditDeadLetters, auditOutbox, type DeadLetterRow } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { iso } from "../platform/time";
import type { DeadLetter, DeadLetterPage, DeadLetterQuery, DeadLetterRetried } from "./dead-letters.schemas";
import { decodeCursor, encodeCursor } from "./log";
import { publishCommitted } from "./producer";
import { parsePayload } from "./relay";

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  const event = parsePayload(row.payload);
  return {
    id: row.id,
    action: row.action,
    makerspace_id: row.makerspaceId,
    reason: row.reason,
    attempts: row.attempts,
    created_at: row.createdAt,
    failed_at: row.failedAt,
    event,
    ...(event ? {} : { payload: row.payload }),
  };
}

/** The list order (most recently failed first), for merging shards' pages. */
export const DEAD_LETTER_ORDER = byKeys<DeadLetter>([(d) => d.failed_at, "desc"], [(d) => d.id, "desc"]);

/**
 * Audit events the relay gave up on, most recently failed first (keyset paging on `failed_at`,
 * `id`, like the audit log). For a super_admin: the events of every makerspace, or of one.
 */
export async function listDeadLetters(deps: Deps, q: DeadLetterQuery): Promise<DeadLetterPage> {
  const where: (SQL | undefined)[] = [];
  if (q.makerspace_id) where.push(eq(auditDeadLetters.makerspaceId, q.makerspace_id));
  if (q.cursor)
    where.push(pastPosition(auditDeadLetters.failedAt, auditDeadLetters.id, decodeCursor(q.cursor), "desc"));
  const rows = await deps.db
    .select()
    .from(auditDeadLetters)
    .where(and(...where))
    .orderBy(desc(auditDeadLetters.failedAt), desc(auditDeadLetters.id))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toDeadLetter),
    next_cursor: rows.length > q.limit && last ? encodeCursor({ createdAt: last.failedAt, id: last.id }) : null,
  };
}

const notFound = () => new AppError("not_found", "Dead letter not found");

/**
 * Puts a dead letter back in the outbox (attempts from 0, aged from now) and sends it to the
 * queue off the response path; should the send fail, the hourly relay sends it. The move is one
 * batch conditional on the dead letter still being there, so of two concurrent retries one
 * re-queues and the other is 404. A payload that cannot be read is 409 `invalid_state`: nothing
 * could write it.
 */
export async function retryDeadLetter(deps: Deps, id: string): Promise<DeadLetterRetried> {
  const row = await deps.db.select().from(auditDeadLetters).where(eq(auditDeadLetters.id, id)).get();
  if (!row) throw notFound();
  const event = parsePayload(row.payload);
  if (!event) throw new AppError("invalid_state", "The dead letter's payload cannot be read as an audit event");
  const results = await runBatch(deps.db, [
    deps.db
      .insert(auditOutbox)
      .select(
        sql`select ${auditDeadLetters.id}, ${auditDeadLetters.payload}, ${iso(deps.now)}, 0
          from ${auditDeadLetters} where ${auditDeadLetters.id} = ${id}`,
      )
      .onConflictDoUpdate({ target: auditOutbox.id, set: { attempts: 0, createdAt: iso(deps.now) } }),
    deps.db.delete(auditDeadLetters).where(eq(auditDeadLetters.id, id)),
  ]);
  if (changesOf(results[1]) !== 1) throw notFound();
  publishCommitted(deps, [event]);
  return { id, requeued: true };
}
