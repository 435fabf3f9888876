import { and, asc, eq, gt, gte, lte, or, type SQL, sql } from "drizzle-orm";
import { ARCHIVED_ACTIONS, byTimeThenId, isArchivedAction } from "../audit/archive";
import { archivedAuditEvents } from "../audit/archive-reader";
import type { AuditAction, AuditEvent } from "../audit/events";
import type { Deps } from "../context";
import { accessRetentionCutoff } from "../cron/retention";
import { runBatch } from "../db/client";
import { skillAuditLogs } from "../db/schema";
import { addDays, iso, startOfUtcDay } from "../lib/time";
import { toAuditLog } from "./audit-logs";

export interface AuditExportQuery {
  since?: string;
  until?: string;
  action?: AuditAction;
  user_id?: string;
}

/** Rows per D1 page: a million-row export stays within Workers' 1,000 D1 queries per invocation. */
const PAGE = 2500;

/** The makerspace's D1 events in the range, oldest first, a keyset page at a time. */
async function* storedAuditEvents(
  deps: Pick<Deps, "db">,
  makerspaceId: string,
  q: AuditExportQuery,
): AsyncGenerator<AuditEvent> {
  const where: SQL[] = [eq(skillAuditLogs.makerspaceId, makerspaceId)];
  if (q.action) where.push(eq(skillAuditLogs.action, q.action));
  if (q.user_id) where.push(eq(skillAuditLogs.userId, q.user_id));
  if (q.since) where.push(gte(skillAuditLogs.createdAt, q.since));
  if (q.until) where.push(lte(skillAuditLogs.createdAt, q.until));
  let after: { createdAt: string; id: string } | undefined;
  for (;;) {
    const position = after
      ? or(
          gt(skillAuditLogs.createdAt, after.createdAt),
          and(eq(skillAuditLogs.createdAt, after.createdAt), gt(skillAuditLogs.id, after.id)),
        )
      : undefined;
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

/** Two ascending streams as one, an event in both (same id) yielded once. */
async function* mergeAscending(a: AsyncIterator<AuditEvent>, b: AsyncIterator<AuditEvent>) {
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && byTimeThenId(x.value, y.value) <= 0)) {
      if (!y.done && !x.done && x.value.id === y.value.id) y = await b.next();
      yield x.value as AuditEvent;
      x = await a.next();
    } else {
      yield y.value;
      y = await b.next();
    }
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
        })
      : nothing();
  yield* mergeAscending(archived, storedAuditEvents(deps, makerspaceId, q));
}
