import type { Deps } from "../platform/context";
import { archiveDay, byTimeThenId, dayPrefix, isArchivedAction, makerspacePrefix } from "./archive";
import { type AuditAction, type AuditEvent, AuditEventSchema } from "./events";

export interface ArchiveRange {
  makerspaceId: string;
  /** Inclusive bounds on `created_at` (ISO); either may be left open. */
  since?: string;
  until?: string;
  action?: AuditAction;
  userId?: string;
  skillId?: string;
  performedBy?: string;
}

/** Objects fetched at once (Workers allow six simultaneous connections per invocation). */
const CONCURRENT_GETS = 6;

/** The names one level below `prefix` (`2026`, `03`, …), every page of the listing, ascending. */
async function childNames(bucket: R2Bucket, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, delimiter: "/", cursor });
    for (const p of page.delimitedPrefixes) names.push(p.slice(prefix.length, -1));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return names.sort();
}

/**
 * The days (`yyyy/mm/dd`) holding archived events of the makerspace between `fromDay` and
 * `toDay`, ascending, found by listing years, then months, then days with a delimiter: a range
 * of years costs a few dozen listings, however few days are archived.
 */
async function* archivedDays(bucket: R2Bucket, makerspaceId: string, fromDay: string, toDay: string) {
  const root = makerspacePrefix(makerspaceId);
  const within = (value: string, length: number) =>
    value >= fromDay.slice(0, length) && value <= toDay.slice(0, length);
  for (const year of await childNames(bucket, root)) {
    if (!within(year, 4)) continue;
    for (const month of await childNames(bucket, `${root}${year}/`)) {
      if (!within(`${year}/${month}`, 7)) continue;
      for (const day of await childNames(bucket, `${root}${year}/${month}/`)) {
        const date = `${year}/${month}/${day}`;
        if (within(date, 10)) yield date;
      }
    }
  }
}

async function objectKeys(bucket: R2Bucket, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    for (const o of page.objects) keys.push(o.key);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/**
 * The archived access events of one makerspace in `range`, in (created_at, id) order, each once.
 *
 * Streams day by day: a day's objects are read (six at a time), its matching events kept in
 * memory, de-duplicated by id, sorted and yielded before the next day is read — so memory holds
 * one makerspace-day of access events (about 0.4 KB each), never the whole range. De-duplication
 * is what makes the archive exactly-once for readers: a whole batch redelivered rewrites the same
 * object, but a partial redelivery (some messages of a batch retried alone) writes its events
 * again in an object of its own; an event's day is fixed by its `created_at`, so both copies are
 * in the same day and only one is yielded. A line that is not a valid event is logged and skipped.
 */
export async function* archivedAuditEvents(
  deps: Pick<Deps, "logger">,
  env: Pick<Env, "AUDIT_ARCHIVE">,
  range: ArchiveRange,
): AsyncGenerator<AuditEvent> {
  if (range.action && !isArchivedAction(range.action)) return;
  const bucket = env.AUDIT_ARCHIVE;
  const fromDay = range.since ? archiveDay(range.since) : "0000/00/00";
  const toDay = range.until ? archiveDay(range.until) : "9999/99/99";
  const keep = (e: AuditEvent) =>
    (!range.since || e.created_at >= range.since) &&
    (!range.until || e.created_at <= range.until) &&
    (!range.action || e.action === range.action) &&
    (!range.userId || e.user_id === range.userId) &&
    (!range.skillId || e.skill_id === range.skillId) &&
    (!range.performedBy || e.performed_by === range.performedBy) &&
    e.makerspace_id === range.makerspaceId;

  for await (const day of archivedDays(bucket, range.makerspaceId, fromDay, toDay)) {
    const keys = await objectKeys(bucket, dayPrefix(range.makerspaceId, day));
    const events = new Map<string, AuditEvent>();
    let bad = 0;
    for (let i = 0; i < keys.length; i += CONCURRENT_GETS) {
      const texts = await Promise.all(
        keys.slice(i, i + CONCURRENT_GETS).map(async (key) => (await bucket.get(key))?.text() ?? ""),
      );
      for (const text of texts) {
        for (const line of text.split("\n")) {
          if (line === "") continue;
          const event = parseLine(line);
          if (!event) bad += 1;
          else if (keep(event)) events.set(event.id, event);
        }
      }
    }
    if (bad > 0) deps.logger.warn("unreadable archive lines skipped", { day, lines: bad });
    yield* [...events.values()].sort(byTimeThenId);
  }
}

function parseLine(line: string): AuditEvent | null {
  try {
    const parsed = AuditEventSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
