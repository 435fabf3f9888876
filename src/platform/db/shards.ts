import { AppError } from "../errors";
import { createLogger } from "../logger";

/**
 * The shards: every D1 binding of the Worker named `SHARD_<n>`, found in the env (so adding one is
 * configuration, not code). `SHARD_0` must exist: ids without a shard tag (made before sharding,
 * when one database held everything) belong to it, and so does the directory's own table set when
 * DIRECTORY and SHARD_0 are one database.
 */
export type ShardName = `SHARD_${number}`;

export const FIRST_SHARD: ShardName = "SHARD_0";
const SHARD_BINDING = /^SHARD_(0|[1-9]\d{0,3})$/;

const discovered = new WeakMap<object, readonly ShardName[]>();

function isD1(value: unknown): value is D1Database {
  return typeof value === "object" && value !== null && typeof (value as D1Database).prepare === "function";
}

/**
 * The shard bindings of this env, in index order (`SHARD_0`, `SHARD_1`, … gaps allowed), found
 * once per env object. A Worker without `SHARD_0` or `DIRECTORY` fails closed with
 * `config_error`, like an invalid variable.
 */
export function shardNames(env: Env): readonly ShardName[] {
  let names = discovered.get(env);
  if (names) return names;
  const bindings = env as unknown as Record<string, unknown>;
  names = Object.keys(bindings)
    .filter((key) => SHARD_BINDING.test(key) && isD1(bindings[key]))
    .map((key) => key as ShardName)
    .sort((a, b) => shardIndex(a) - shardIndex(b));
  if (!names.includes(FIRST_SHARD) || !isD1(bindings.DIRECTORY)) {
    createLogger().error("invalid configuration", { bindings: ["DIRECTORY and SHARD_0 must be D1 bindings"] });
    throw new AppError("config_error", "Service configuration is invalid");
  }
  discovered.set(env, names);
  return names;
}

export function isShardName(env: Env, name: string): name is ShardName {
  return shardNames(env).includes(name as ShardName);
}

export function shardIndex(name: ShardName): number {
  return Number(name.slice("SHARD_".length));
}

/** The binding of a shard this env has (callers check the name first). */
export function shardBinding(env: Env, name: ShardName): D1Database {
  return (env as unknown as Record<string, D1Database>)[name] as D1Database;
}

/**
 * Generated ids carry their shard: `skill_s1_<uuid>` lives in SHARD_1. A call that names only an
 * id (a super_admin's `GET /skills/{id}`) goes straight to that shard, with no lookup and no scan.
 * Ids without a tag — made before sharding, or chosen by a caller — belong to SHARD_0.
 */
const TAGGED_ID = /^[a-z]+_s(0|[1-9]\d{0,3})_/;

export function idTag(shard: ShardName): string {
  return `s${shardIndex(shard)}`;
}

/** The shard an id names by its tag (SHARD_0 when it has none). May name a shard this env lacks. */
export function shardOfId(id: string): ShardName {
  const tag = TAGGED_ID.exec(id);
  return tag ? `SHARD_${Number(tag[1])}` : FIRST_SHARD;
}
