import { eq, sql } from "drizzle-orm";
import { AppError } from "../errors";
import { createLogger } from "../logger";
import { iso } from "../time";
import { createDb, type Db } from "./client";
import { retryingD1 } from "./retry";
import { equipmentIndex, makerspaceShards } from "./schema";
import { isShardName, type ShardName, shardNames } from "./shards";

/**
 * The shard directory, read and written through the DIRECTORY binding (always its primary: a
 * makerspace's row is read once per isolate, so replicas would save nothing):
 * - `makerspace_shards`: makerspace → shard, written by the first write naming the makerspace;
 * - `equipment_index`: equipment id → makerspace, written by every equipment creation.
 *
 * Both are cached per isolate without expiry: a makerspace never moves (nothing rewrites its
 * row), and an equipment id never changes hands, so a cached entry can never be stale. Only
 * found entries are cached — a makerspace or id not there yet is asked for again.
 */
const MAX_CACHED = 10_000;

type Cache<V> = Map<string, V>;
const makerspaceShardCache: Cache<ShardName> = new Map();
const equipmentHomeCache: Cache<EquipmentHome> = new Map();

function remember<V>(cache: Cache<V>, key: string, value: V): V {
  if (cache.size >= MAX_CACHED) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, value);
  return value;
}

function directory(env: Env): Db {
  return createDb(retryingD1(env.DIRECTORY));
}

/** A directory row naming a shard this Worker has no binding for: a configuration error, not a 404. */
function boundShard(env: Env, shard: string, makerspaceId: string): ShardName {
  if (isShardName(env, shard)) return shard;
  createLogger().error("invalid configuration", {
    bindings: [`the directory places makerspace ${makerspaceId} on ${shard}, which is not bound`],
  });
  throw new AppError("config_error", "Service configuration is invalid");
}

/** The makerspace's shard, or null when it has none yet (nothing was ever written for it). */
export async function findShard(env: Env, makerspaceId: string): Promise<ShardName | null> {
  const hit = makerspaceShardCache.get(makerspaceId);
  if (hit) return hit;
  const row = await directory(env)
    .select({ shard: makerspaceShards.shard })
    .from(makerspaceShards)
    .where(eq(makerspaceShards.makerspaceId, makerspaceId))
    .get();
  return row ? remember(makerspaceShardCache, makerspaceId, boundShard(env, row.shard, makerspaceId)) : null;
}

/**
 * The makerspace's shard, placing it first if it has none: on the shard holding the fewest
 * makerspaces (ties: the lowest index). One batch, race-safe — the row is inserted only if absent
 * (`on conflict do nothing`) and then read back, so two first writes for one makerspace, in any
 * isolates, both get the row that won. An operator may place a makerspace beforehand by inserting
 * its row (e.g. a large one on a shard of its own).
 */
export async function assignShard(env: Env, makerspaceId: string, now: Date): Promise<ShardName> {
  const found = await findShard(env, makerspaceId);
  if (found) return found;
  // The bound shards in index order: json_each's `key` is the position, the tie-breaker.
  const candidates = JSON.stringify(shardNames(env));
  const db = directory(env);
  const [, rows] = await db.batch([
    db
      .insert(makerspaceShards)
      .select(
        sql`select ${makerspaceId}, c.value, ${iso(now)}
          from json_each(${candidates}) c
          left join (select shard, count(*) as n from ${makerspaceShards} group by shard) f on f.shard = c.value
          where true
          order by coalesce(f.n, 0), c.key
          limit 1`,
      )
      .onConflictDoNothing({ target: makerspaceShards.makerspaceId }),
    db
      .select({ shard: makerspaceShards.shard })
      .from(makerspaceShards)
      .where(eq(makerspaceShards.makerspaceId, makerspaceId)),
  ]);
  const row = rows[0];
  if (!row) throw new Error(`makerspace ${makerspaceId} has no directory row after its insert`);
  return remember(makerspaceShardCache, makerspaceId, boundShard(env, row.shard, makerspaceId));
}

export interface EquipmentHome {
  makerspaceId: string;
  shard: ShardName;
}

/** Where an equipment id lives (from the directory's index), or null when no item has it. */
export async function findEquipment(env: Env, equipmentId: string): Promise<EquipmentHome | null> {
  const hit = equipmentHomeCache.get(equipmentId);
  if (hit) return hit;
  const row = await directory(env)
    .select({ makerspaceId: equipmentIndex.makerspaceId, shard: makerspaceShards.shard })
    .from(equipmentIndex)
    .innerJoin(makerspaceShards, eq(makerspaceShards.makerspaceId, equipmentIndex.makerspaceId))
    .where(eq(equipmentIndex.id, equipmentId))
    .get();
  if (!row) return null;
  const home = { makerspaceId: row.makerspaceId, shard: boundShard(env, row.shard, row.makerspaceId) };
  return remember(equipmentHomeCache, equipmentId, home);
}

/**
 * Claims an equipment id for a makerspace in the service-wide index; false when another
 * makerspace holds it (`equipment_conflict`). One batch: insert if absent, then read the owner,
 * so of two makerspaces racing for one id exactly one gets it. A claim is never released: an id
 * claimed by a creation that then failed stays its makerspace's, which may still create it (the
 * shard's primary key settles races within a makerspace).
 */
export async function claimEquipmentId(
  env: Env,
  equipmentId: string,
  makerspaceId: string,
  now: Date,
): Promise<boolean> {
  const db = directory(env);
  const [, rows] = await db.batch([
    db
      .insert(equipmentIndex)
      .values({ id: equipmentId, makerspaceId, createdAt: iso(now) })
      .onConflictDoNothing({ target: equipmentIndex.id }),
    db
      .select({ makerspaceId: equipmentIndex.makerspaceId })
      .from(equipmentIndex)
      .where(eq(equipmentIndex.id, equipmentId)),
  ]);
  return rows[0]?.makerspaceId === makerspaceId;
}

/** Test hook: forget what this isolate has read (as a fresh isolate would). */
export function clearDirectoryCache(): void {
  makerspaceShardCache.clear();
  equipmentHomeCache.clear();
}
