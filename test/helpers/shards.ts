import { env } from "cloudflare:workers";
import { assignShard, findShard } from "../../src/platform/db/directory";
import { type ShardName, shardBinding, shardNames } from "../../src/platform/db/shards";

/** The shard bindings of the test env (limited like production by test/setup), in index order. */
export function shards(from: Env = env): { name: ShardName; db: D1Database }[] {
  return shardNames(from).map((name) => ({ name, db: shardBinding(from, name) }));
}

/**
 * The D1 binding holding a makerspace's rows, for tests that seed or inspect D1 directly. A
 * makerspace nothing was written for yet is placed first, as its first write through the API
 * would place it.
 */
export async function shardDb(makerspaceId = "ms-1", from: Env = env): Promise<D1Database> {
  return shardBinding(from, await assignShard(from, makerspaceId, new Date()));
}

/** Which shard holds the makerspace (null when nothing was ever written for it). */
export function shardOf(makerspaceId: string): Promise<ShardName | null> {
  return findShard(env, makerspaceId);
}

/** The rows `query` reads on every shard, concatenated: for assertions about rows of any makerspace. */
export async function onEveryShard<T>(query: (db: D1Database) => Promise<T[]>): Promise<T[]> {
  return (await Promise.all(shards().map(({ db }) => query(db)))).flat();
}

/** `select count(*) as n …` (or any single `n`) summed over every shard. */
export async function countOnEveryShard(query: string, ...params: unknown[]): Promise<number> {
  const counts = await onEveryShard(async (db) => [
    (
      await db
        .prepare(query)
        .bind(...params)
        .first<{ n: number }>()
    )?.n ?? 0,
  ]);
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Runs a write (an `update`, an `insert … select`) on every shard: for a test that changes a row
 * behind the API's back without caring where it lives — only its makerspace's shard holds it.
 */
export async function runOnEveryShard(query: string, ...params: unknown[]): Promise<void> {
  await Promise.all(
    shards().map(({ db }) =>
      db
        .prepare(query)
        .bind(...params)
        .run(),
    ),
  );
}

/** `query`'s rows on every shard, concatenated (`select …` with bound values). */
export function allOnEveryShard<T>(query: string, ...params: unknown[]): Promise<T[]> {
  return onEveryShard(
    async (db) =>
      (
        await db
          .prepare(query)
          .bind(...params)
          .all<T>()
      ).results,
  );
}
