import { idTag, type ShardName } from "./db/shards";

/**
 * Ids are random UUIDs with a short prefix naming the kind, so a stray id in a log says what it
 * is, and a tag naming the shard that holds the row (`skill_s1_…`), so a call naming only the id
 * finds its shard without a lookup (src/platform/db/shards.ts).
 */
export type IdKind = "skill" | "eq" | "us" | "req" | "evt" | "dev" | "badge" | "wh" | "whd" | "imp";

export function newId(kind: IdKind, on: { shard: ShardName }): string {
  return `${kind}_${idTag(on.shard)}_${crypto.randomUUID()}`;
}
