import { env } from "cloudflare:workers";

// Every test file runs sharded: ms-1, the makerspace most tests use, lives on SHARD_1 and ms-2 on
// SHARD_0 — placed beforehand, as an operator may place a makerspace — so the common case runs on
// a shard other than the directory's database, and the two tenants most tests compare are on
// different shards. Every other makerspace is placed by its first write (least-filled shard).
const at = new Date().toISOString();
await env.DIRECTORY.batch([
  env.DIRECTORY.prepare(
    "insert or ignore into makerspace_shards (makerspace_id, shard, created_at) values ('ms-1', 'SHARD_1', ?)",
  ).bind(at),
  env.DIRECTORY.prepare(
    "insert or ignore into makerspace_shards (makerspace_id, shard, created_at) values ('ms-2', 'SHARD_0', ?)",
  ).bind(at),
]);
