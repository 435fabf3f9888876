import type { Paging } from "../../http/common.schemas";
import type { Deps } from "../context";
import { type ShardName, shardNames } from "./shards";

/**
 * Work over every shard: a super_admin's listing across makerspaces, the cron's per-shard jobs,
 * the consumer's per-shard writes. At most FAN_OUT_CONCURRENCY shards are asked at once, so a
 * Worker with many shards stays within its simultaneous-connection limit (6 per invocation).
 */
export const FAN_OUT_CONCURRENCY = 4;

/** Runs `run` for each item, at most `limit` at a time; results in the items' order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: "fulfilled", value: await run(items[i] as T) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** `run` on every shard (each with its own deps), settled per shard: one failing shard stops no other. */
export async function eachShard<R>(
  deps: Deps,
  run: (shardDeps: Deps) => Promise<R>,
): Promise<Map<ShardName, PromiseSettledResult<R>>> {
  const names = shardNames(deps.env);
  const settled = await mapBounded(names, FAN_OUT_CONCURRENCY, (name) => run(deps.onShard(name)));
  return new Map(names.map((name, i) => [name, settled[i] as PromiseSettledResult<R>]));
}

/** Every shard's answer, or the first failure. */
async function fromEveryShard<R>(deps: Deps, run: (shardDeps: Deps) => Promise<R>): Promise<R[]> {
  const settled = [...(await eachShard(deps, run)).values()];
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

export type Order<T> = (a: T, b: T) => number;

/** Merges lists each sorted by `order` into one sorted list (ties keep shard order). */
function merge<T>(lists: T[][], order: Order<T>): T[] {
  return lists.flat().sort(order);
}

/**
 * A limit/offset page of a list that may span makerspaces. With a makerspace (or a single
 * shard), the service's own query. Without (a super_admin's listing of everything), each shard
 * is asked for its first `offset + limit` rows in the list's order, the answers are merged in
 * that same order, and the page is cut from the merge: exactly the page one database would give.
 * `order` must be the SQL order of the list (ties broken by a unique id).
 */
export async function pageAcrossShards<T>(
  deps: Deps,
  everywhere: boolean,
  page: Paging,
  list: (shardDeps: Deps, page: Paging) => Promise<T[]>,
  order: Order<T>,
): Promise<T[]> {
  if (!everywhere || shardNames(deps.env).length === 1) return list(deps, page);
  const lists = await fromEveryShard(deps, (d) => list(d, { limit: page.offset + page.limit, offset: 0 }));
  return merge(lists, order).slice(page.offset, page.offset + page.limit);
}

/**
 * A keyset page (newest first, with `next_cursor`) of a list that may span makerspaces: each
 * shard answers its own page after the same cursor, the answers are merged in the list's order
 * and cut to `limit`; another page follows when any shard had more than what was kept.
 */
export async function keysetAcrossShards<T>(
  deps: Deps,
  everywhere: boolean,
  limit: number,
  list: (shardDeps: Deps) => Promise<{ items: T[]; next_cursor: string | null }>,
  order: Order<T>,
  cursorOf: (last: T) => string,
): Promise<{ items: T[]; next_cursor: string | null }> {
  if (!everywhere || shardNames(deps.env).length === 1) return list(deps);
  const pages = await fromEveryShard(deps, list);
  const merged = merge(
    pages.map((p) => p.items),
    order,
  );
  const items = merged.slice(0, limit);
  const more = merged.length > limit || pages.some((p) => p.next_cursor !== null);
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? cursorOf(last) : null };
}

/**
 * SQLite's text order (BINARY collation: UTF-8 bytes, which is code-point order) — not
 * JavaScript's `<`, which compares UTF-16 units and puts U+FF61 after U+1F600.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const x = a[Symbol.iterator]();
  const y = b[Symbol.iterator]();
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done || q.done) return p.done ? (q.done ? 0 : -1) : 1;
    const d = (p.value.codePointAt(0) as number) - (q.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}

/** SQLite's built-in `lower()`: ASCII letters only (D1 has no ICU; `lower('Ä')` is `Ä`). */
export function sqliteLower(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

/** Compares by several keys in turn; `desc` reverses one. */
export function byKeys<T>(...keys: [(row: T) => string | null, "asc" | "desc"][]): Order<T> {
  return (a, b) => {
    for (const [key, dir] of keys) {
      const ka = key(a);
      const kb = key(b);
      // SQLite sorts NULL before any text.
      const d = ka === kb ? 0 : ka === null ? -1 : kb === null ? 1 : compareText(ka, kb);
      if (d !== 0) return dir === "asc" ? d : -d;
    }
    return 0;
  };
}
