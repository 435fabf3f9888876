import { TtlCache } from "../platform/cache";
import type { CachedCertification } from "./cache";

/**
 * How long this isolate answers a `consistency=cached` check from its own copy of a member's
 * certifications instead of reading KV again. KV reads ask for an edge-cache TTL of
 * KV_READ_CACHE_TTL_SECONDS, so a change made at another location reaches a check here within
 * 55 s + 5 s: the contract's "up to about a minute" for cached reads.
 */
export const CERTIFICATION_MEMO_MAX_AGE_MS = 5_000;
export const KV_READ_CACHE_TTL_SECONDS = 55;

interface IsolateState {
  memo: TtlCache<string, CachedCertification[]>;
  /**
   * Members with a change committed through this isolate whose KV entry is not rewritten yet (its
   * write waits for the key's second): their cached checks here read D1 until it is.
   */
  unsettled: Map<string, number>;
}

/** Per KV namespace binding (tests give the Worker wrapped namespaces of their own). */
const states = new WeakMap<KVNamespace, IsolateState>();

function stateOf(kv: KVNamespace): IsolateState {
  let state = states.get(kv);
  if (!state) {
    state = {
      memo: new TtlCache({ maxEntries: 10_000, maxAgeMs: CERTIFICATION_MEMO_MAX_AGE_MS }),
      unsettled: new Map(),
    };
    states.set(kv, state);
  }
  return state;
}

/**
 * The memo in front of KV, for cached reads only (`verify` and strong checks never use it). A
 * change made through this isolate drops the member's copy at once, and a read that raced the
 * change cannot put the old copy back (TtlCache's tickets).
 */
export function certificationMemo(kv: KVNamespace): TtlCache<string, CachedCertification[]> {
  return stateOf(kv).memo;
}

/** A change to the member committed here and its KV entry is not written yet: read D1. */
export function isUnsettled(kv: KVNamespace, key: string): boolean {
  return stateOf(kv).unsettled.has(key);
}

/** Marks the member unsettled until `write` settles (whatever its outcome), then drops the memo. */
export function unsettledUntil(kv: KVNamespace, key: string, write: Promise<void>): Promise<void> {
  const { memo, unsettled } = stateOf(kv);
  unsettled.set(key, (unsettled.get(key) ?? 0) + 1);
  memo.delete(key);
  return write.finally(() => {
    const left = (unsettled.get(key) ?? 1) - 1;
    if (left > 0) unsettled.set(key, left);
    else unsettled.delete(key);
    memo.delete(key);
  });
}
