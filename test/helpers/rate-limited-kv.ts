/**
 * Production KV accepts at most one write per second to a key and answers a second one with
 * 429; local KV accepts every write. This wrapper around the real local binding (not a mock:
 * every accepted call goes to local KV) refuses a put or delete of a key written less than a
 * second before, as production does, so tests see the limit the Worker must live with.
 */
export const KV_WRITE_INTERVAL_MS = 1000;

const WRAPPED = Symbol("rate-limited-kv");
const UNLIMITED = Symbol("rate-limited-kv.unlimited");
const FORGET = Symbol("rate-limited-kv.forget");

export interface KvWriteLog {
  /** Writes KV accepted. */
  accepted: number;
  /** Writes refused with 429. */
  refused: number;
  /** Keys of refused writes, in order. */
  refusedKeys: string[];
}

/** The counters of a wrapped namespace (every wrapper keeps its own). */
export function kvWriteLog(kv: KVNamespace): KvWriteLog | undefined {
  return (kv as unknown as { [WRAPPED]?: KvWriteLog })[WRAPPED];
}

/**
 * The binding under the wrapper, for a test's own seeding and clearing: those writes are not the
 * Worker's, and do not count against its keys' second.
 */
export function unlimitedKv(kv: KVNamespace): KVNamespace {
  return (kv as unknown as { [UNLIMITED]?: KVNamespace })[UNLIMITED] ?? kv;
}

/**
 * Deletes `key` as if it had not been written for a long while: through the binding under the
 * wrapper, and with the wrapper's record of its last write dropped (a test starting cold).
 */
export async function coldKvKey(kv: KVNamespace, key: string): Promise<void> {
  await unlimitedKv(kv).delete(key);
  (kv as unknown as { [FORGET]?: (key: string) => void })[FORGET]?.(key);
}

export function rateLimitedKv(kv: KVNamespace, intervalMs = KV_WRITE_INTERVAL_MS): KVNamespace {
  if (kvWriteLog(kv)) return kv;
  const log: KvWriteLog = { accepted: 0, refused: 0, refusedKeys: [] };
  const lastWrite = new Map<string, number>();
  const admit = (op: "PUT" | "DELETE", key: string) => {
    const now = Date.now();
    const last = lastWrite.get(key);
    if (last !== undefined && now - last < intervalMs) {
      log.refused += 1;
      log.refusedKeys.push(key);
      throw new Error(`KV ${op} failed: 429 Too Many Requests`);
    }
    lastWrite.set(key, now);
    log.accepted += 1;
  };
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === WRAPPED) return log;
      if (prop === UNLIMITED) return target;
      if (prop === FORGET) return (key: string) => lastWrite.delete(key);
      if (prop === "put") {
        return async (key: string, ...rest: unknown[]) => {
          admit("PUT", key);
          return (target.put as (...args: unknown[]) => Promise<void>)(key, ...rest);
        };
      }
      if (prop === "delete") {
        return async (key: string) => {
          admit("DELETE", key);
          return target.delete(key);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
