import { type SQL, sql } from "drizzle-orm";
import { idTag, type ShardName } from "./db/shards";

/**
 * Every id the service makes, in ONE format: `<kind>_<shard tag>_<random UUID v4>` — a short
 * prefix naming the kind, so a stray id in a log says what it is, and a tag naming the shard that
 * holds the row (`skill_s1_…`), so a call naming only the id finds its shard without a lookup
 * (`shardOfId`, src/platform/db/shards.ts). Ids made by SQL (set-based statements that write many
 * rows: the expiry cron's events, the reminders' event ids) have the same format ({@link newIdSql}).
 */
export type IdKind = "skill" | "eq" | "us" | "req" | "evt" | "dev" | "badge" | "wh" | "whd" | "imp";

/** What ids look like: kind, shard tag, a lower-case UUID v4. */
export const ID_FORMAT =
  /^[a-z]+_s(0|[1-9]\d{0,3})_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function prefix(kind: IdKind, on: { shard: ShardName }): string {
  return `${kind}_${idTag(on.shard)}_`;
}

export function newId(kind: IdKind, on: { shard: ShardName }): string {
  return `${prefix(kind, on)}${crypto.randomUUID()}`;
}

/** A random UUID (v4 layout) per row, made by SQLite. */
const SQL_UUID = sql.raw(
  `lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)
   || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
   || '-' || lower(hex(randomblob(6)))`,
);

/** {@link newId} as SQL: a fresh id per row a set-based statement writes. */
export function newIdSql(kind: IdKind, on: { shard: ShardName }): SQL<string> {
  return sql<string>`(${prefix(kind, on)} || ${SQL_UUID})`;
}
