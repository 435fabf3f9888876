import { and, asc, eq, sql } from "drizzle-orm";
import { accessRetentionCutoff } from "../cron/retention";
import type { Deps } from "../platform/context";
import { type Position, pastPosition, runBatch } from "../platform/db/client";
import { skillAuditLogs } from "../platform/db/schema";
import { streamFrom } from "../platform/stream";
import { addDays, iso, startOfUtcDay } from "../platform/time";
import { ARCHIVED_ACTIONS, byTimeThenId, isArchivedAction } from "./archive";
import { archivedAuditEvents } from "./archive-reader";
import type { AuditEvent } from "./events";
import { type AuditFilter, auditConditions, toAuditLog } from "./log";

/** The export's filters: the list's, without paging (`GET /skills/audit-logs/export`). */
export type AuditExportQuery = AuditFilter;

/** Rows per D1 page: a million-row export stays within Workers' 1,000 D1 queries per invocation. */
const PAGE = 2500;

/** The makerspace's D1 events in the range, oldest first, a keyset page at a time. */
async function* storedAuditEvents(
  deps: Pick<Deps, "db">,
  makerspaceId: string,
  q: AuditExportQuery,
): AsyncGenerator<AuditEvent> {
  const where = auditConditions(makerspaceId, q);
  let after: Position | undefined;
  for (;;) {
    const position = pastPosition(skillAuditLogs.createdAt, skillAuditLogs.id, after, "asc");
    const rows = await deps.db
      .select()
      .from(skillAuditLogs)
      .where(and(...where, position))
      .orderBy(asc(skillAuditLogs.createdAt), asc(skillAuditLogs.id))
      .limit(PAGE)
      .all();
    for (const row of rows) yield toAuditLog(row);
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) return;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

/**
 * Up to when the archive must be read: through the UTC day of the later of the retention cutoff
 * (D1 holds every access event from that midnight on, since retention deletes whole days) and the
 * makerspace's oldest access event still in D1 (D1 holds every later one: after
 * ACCESS_EVENT_RETENTION_DAYS was raised, D1 starts later than the cutoff says). Null when D1
 * holds no access event of the makerspace: then the archive is read for the whole range.
 */
async function archiveReach(deps: Deps, makerspaceId: string): Promise<string | null> {
  const oldest = (action: string) =>
    deps.db
      .select({ at: sql<string | null>`min(${skillAuditLogs.createdAt})` })
      .from(skillAuditLogs)
      .where(and(eq(skillAuditLogs.makerspaceId, makerspaceId), eq(skillAuditLogs.action, action)));
  const results = (await runBatch(deps.db, ARCHIVED_ACTIONS.map(oldest))) as { at: string | null }[][];
  const found = results.map((r) => r[0]?.at).filter((at): at is string => typeof at === "string");
  if (found.length === 0) return null;
  const boundary = Math.max(Math.min(...found.map(Date.parse)), accessRetentionCutoff(deps).getTime());
  return iso(new Date(addDays(startOfUtcDay(new Date(boundary)), 1).getTime() - 1));
}

/**
 * Several ascending ((created_at, id) order) sequences as one, ascending; an event found in more
 * than one of them (an access event still in D1 and already archived) is yielded once.
 */
export async function* mergeOldestFirst<T extends AuditEvent>(sequences: AsyncIterable<T>[]): AsyncGenerator<T> {
  const heads = await Promise.all(
    sequences.map(async (s) => {
      const it = s[Symbol.asyncIterator]();
      return { it, next: await it.next() };
    }),
  );
  let last: T | undefined;
  for (;;) {
    let pick: (typeof heads)[number] | undefined;
    for (const h of heads) {
      if (h.next.done) continue;
      if (!pick || byTimeThenId(h.next.value, (pick.next as IteratorYieldResult<T>).value) < 0) pick = h;
    }
    if (!pick || pick.next.done) return;
    const event = pick.next.value;
    pick.next = await pick.it.next();
    if (last && byTimeThenId(last, event) === 0) continue;
    last = event;
    yield event;
  }
}

async function* nothing(): AsyncGenerator<AuditEvent> {}

/**
 * Every audit event of the makerspace in the range, oldest first ((created_at, id) order), for
 * `GET /skills/audit-logs/export`: D1 merged with the R2 archive of access events. The archive is
 * read up to `archiveReach` (a day past where D1's access events begin), D1 for the whole range,
 * and an event found in both is yielded once — so nothing is missed at the boundary whenever the
 * daily retention last ran, and nothing is doubled. Both sources stream: D1 in keyset pages, the
 * archive one makerspace-day at a time.
 */
export async function* exportAuditEvents(
  deps: Deps,
  makerspaceId: string,
  q: AuditExportQuery,
): AsyncGenerator<AuditEvent> {
  const wantsArchive = !q.action || isArchivedAction(q.action);
  const reach = wantsArchive ? await archiveReach(deps, makerspaceId) : undefined;
  const archiveUntil = reach && q.until && q.until < reach ? q.until : (reach ?? q.until);
  const archived =
    wantsArchive && (!q.since || !archiveUntil || q.since <= archiveUntil)
      ? archivedAuditEvents(deps, deps.env, {
          makerspaceId,
          since: q.since,
          until: archiveUntil,
          action: q.action,
          userId: q.user_id,
          skillId: q.skill_id,
          performedBy: q.performed_by,
        })
      : nothing();
  yield* mergeOldestFirst([archived, storedAuditEvents(deps, makerspaceId, q)]);
}

/** Events per piece written to the response. */
const LINES_PER_PIECE = 200;

/**
 * `exportAuditEvents` as an NDJSON byte stream (one AuditLog object per line), pulled as the client
 * reads. The first piece is read before the response is built, so a failure there is an ordinary
 * error answer; a failure later is logged and errors the stream, so the client sees an aborted
 * response rather than a short one that looks whole.
 */
export function exportAuditNdjson(
  deps: Deps,
  makerspaceId: string,
  q: AuditExportQuery,
): Promise<ReadableStream<Uint8Array>> {
  const events = exportAuditEvents(deps, makerspaceId, q);
  async function* pieces(): AsyncGenerator<string> {
    let piece = "";
    let n = 0;
    for await (const event of events) {
      piece += `${JSON.stringify(event)}\n`;
      n += 1;
      if (n === LINES_PER_PIECE) {
        yield piece;
        piece = "";
        n = 0;
      }
    }
    yield piece;
  }
  return streamFrom(pieces(), deps.logger, "audit-log export");
}
