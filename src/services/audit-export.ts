import { and, asc, eq, gt, or } from "drizzle-orm";
import type { Deps } from "../context";
import { skillAuditLogs } from "../db/schema";
import { streamFrom } from "../lib/stream";
import type { AuditLog } from "../schemas/audit-logs";
import { type AuditFilter, auditConditions, toAuditLog } from "./audit-logs";

/** Events per D1 query: one page is all the export holds in memory per source. */
export const AUDIT_EXPORT_PAGE = 500;

/**
 * Somewhere audit events are kept, read oldest first (`created_at`, then `id`) for a filter.
 * D1 is one; events archived out of D1 (R2) are another — add that source to
 * `auditExportSources` and the export merges it in, in order and without duplicates.
 */
export interface AuditSource {
  name: string;
  events(makerspaceId: string | undefined, filter: AuditFilter): AsyncIterable<AuditLog>;
}

/** The audit table in D1, read in keyset pages. */
export function d1AuditSource(deps: Deps): AuditSource {
  return {
    name: "d1",
    async *events(makerspaceId, filter) {
      const conditions = auditConditions(makerspaceId, filter);
      let after: AuditLog | undefined;
      for (;;) {
        const rows = await deps.db
          .select()
          .from(skillAuditLogs)
          .where(
            and(
              ...conditions,
              after
                ? or(
                    gt(skillAuditLogs.createdAt, after.created_at),
                    and(eq(skillAuditLogs.createdAt, after.created_at), gt(skillAuditLogs.id, after.id)),
                  )
                : undefined,
            ),
          )
          .orderBy(asc(skillAuditLogs.createdAt), asc(skillAuditLogs.id))
          .limit(AUDIT_EXPORT_PAGE)
          .all();
        for (const row of rows) yield toAuditLog(row);
        if (rows.length < AUDIT_EXPORT_PAGE) return;
        after = toAuditLog(rows[rows.length - 1] as (typeof rows)[number]);
      }
    },
  };
}

/** Where the export reads from. The R2 archive of access events joins this list. */
export function auditExportSources(deps: Deps): AuditSource[] {
  return [d1AuditSource(deps)];
}

const before = (a: AuditLog, b: AuditLog) =>
  a.created_at < b.created_at || (a.created_at === b.created_at && a.id < b.id);

/**
 * Several oldest-first sequences as one, oldest first; an event found in more than one source (an
 * access event still in D1 and already archived) is given once.
 */
export async function* mergeOldestFirst(sequences: AsyncIterable<AuditLog>[]): AsyncGenerator<AuditLog> {
  const heads = await Promise.all(
    sequences.map(async (s) => {
      const it = s[Symbol.asyncIterator]();
      return { it, next: await it.next() };
    }),
  );
  let last: AuditLog | undefined;
  for (;;) {
    let pick: (typeof heads)[number] | undefined;
    for (const h of heads) {
      if (!h.next.done && (!pick || before(h.next.value, (pick.next as IteratorYieldResult<AuditLog>).value))) pick = h;
    }
    if (!pick || pick.next.done) return;
    const event = pick.next.value;
    pick.next = await pick.it.next();
    if (last && last.id === event.id && last.created_at === event.created_at) continue;
    last = event;
    yield event;
  }
}

/** Events per streamed piece: one write to the client per this many lines. */
const LINES_PER_PIECE = 100;

/**
 * GET /skills/audit-logs/export: every matching event as NDJSON (one AuditLog object per line),
 * oldest first, streamed as the client reads it.
 */
export async function exportAuditLogs(
  deps: Deps,
  makerspaceId: string | undefined,
  filter: AuditFilter,
): Promise<ReadableStream<Uint8Array>> {
  const events = mergeOldestFirst(auditExportSources(deps).map((s) => s.events(makerspaceId, filter)));
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
