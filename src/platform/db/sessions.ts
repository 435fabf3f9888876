import { createDb, type D1Queryable, type Db } from "./client";
import { retryingD1 } from "./retry";
import { FIRST_SHARD, isShardName, type ShardName, shardBinding } from "./shards";

/**
 * How a request reads a shard, with D1's Sessions API (read replication):
 * - `primary`: a session opened with "first-primary" — writes; its bookmark after the request is
 *   what a write's response returns;
 * - `bookmark`: a session anchored at a bookmark the client sent back (`x-consistency-token`), so
 *   a replica serves the read only once it is at least that fresh (read-your-writes);
 * - `any`: "first-unconstrained", any replica (every other read);
 * - `plain`: the binding itself — D1 runs every query made without a session on the primary — for
 *   what needs the primary and no bookmark: `verify`, `consistency=strong` reads, the cron and the
 *   queue consumer (its Drizzle instance, and the queries prepared on it, last the isolate's life).
 */
export type Consistency =
  | { kind: "primary" }
  | { kind: "bookmark"; bookmark: string }
  | { kind: "any" }
  | { kind: "plain" };

export const CONSISTENCY_HEADER = "x-consistency-token";

/**
 * A token is `<shard>:<bookmark>`: the shard whose session wrote, and that session's bookmark
 * after the write. Bookmarks are opaque to us; this is the shape D1 (and the local runtime) gives
 * them — 8-8-8-32 hex digits, sortable — so anything else is refused before it reaches D1.
 */
const TOKEN = /^(SHARD_(?:0|[1-9]\d{0,3})):([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32})$/;
export const CONSISTENCY_TOKEN_PATTERN = TOKEN.source;

export interface ConsistencyToken {
  shard: ShardName;
  bookmark: string;
}

export function formatConsistencyToken(shard: ShardName, bookmark: string): string {
  return `${shard}:${bookmark}`;
}

export function parseConsistencyToken(token: string | undefined): ConsistencyToken | null {
  const match = token === undefined ? null : TOKEN.exec(token.trim());
  return match ? { shard: match[1] as ShardName, bookmark: match[2] as string } : null;
}

export interface OpenedShard {
  shard: ShardName;
  db: Db;
  /** What `db` is built on: the shard's binding or session, its reads retried. */
  d1: D1Queryable;
  /** The session behind `db`; null for `plain`. */
  session: D1DatabaseSession | null;
}

/**
 * A shard's Drizzle instance for one request. Drizzle has no session API: the session is handed
 * to it as if it were the binding (see createDb). Building one costs a few microseconds (no
 * schema), so every request may have its own. A shard this env lacks (an id tagged for a
 * removed shard) opens SHARD_0, where such a row is simply not found.
 */
export function openShard(env: Env, shard: ShardName, consistency: Consistency): OpenedShard {
  const name = isShardName(env, shard) ? shard : FIRST_SHARD;
  const binding = shardBinding(env, name);
  if (consistency.kind === "plain") {
    const d1 = retryingD1(binding);
    return { shard: name, db: createDb(d1), d1, session: null };
  }
  const session = binding.withSession(
    consistency.kind === "bookmark"
      ? consistency.bookmark
      : consistency.kind === "primary"
        ? "first-primary"
        : "first-unconstrained",
  );
  const d1 = retryingD1(session);
  return { shard: name, db: createDb(d1), d1, session };
}
