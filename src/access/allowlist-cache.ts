import type { Deps } from "../platform/context";
import { isKvRateLimited, writeNowUnlessRecent } from "../platform/kv-pacing";
import { errorText } from "../platform/logger";
import type { SignedAllowlist } from "./allowlists.schemas";

/**
 * KV cache of signed allow-lists: key `allowlist:{equipment_id}:{version}`, value the signed list
 * with the public key (`x`) and TTL it was made under. A list is built and signed once per version
 * and reused while more than half of its ALLOWLIST_TTL_SECONDS remains, so a controller always
 * receives a list it may keep for at least half the TTL. The version is bumped in the same D1
 * batch as every change to the list, so an entry is never stale for its key: a change makes a
 * new key, and the old one ages out (KV TTL = the list's TTL, at least KV's 60 s).
 */
interface CachedAllowlist {
  v: 1;
  /** The signing key's public `x`: a list signed by a rotated-out key is rebuilt. */
  x: string;
  ttl: number;
  body: SignedAllowlist;
}

export const allowlistKey = (equipmentId: string, version: string) => `allowlist:${equipmentId}:${version}`;

type CacheDeps = Pick<Deps, "kv" | "config" | "now" | "logger" | "waitUntil">;

/** Whether a list made at `generated_at` still has more than half of its TTL ahead at `now`. */
export function freshEnough(body: SignedAllowlist, ttlSeconds: number, now: Date): boolean {
  return Date.parse(body.allowlist.valid_until) - now.getTime() > (ttlSeconds * 1000) / 2;
}

/** The cached signed list of this version, when it was signed with key `x` and is fresh enough. */
export async function readCachedAllowlist(
  deps: CacheDeps,
  equipmentId: string,
  version: string,
  x: string,
): Promise<SignedAllowlist | null> {
  const ttl = deps.config.ALLOWLIST_TTL_SECONDS;
  const entry = await deps.kv.get<CachedAllowlist>(allowlistKey(equipmentId, version), "json");
  if (entry?.v !== 1 || entry.x !== x || entry.ttl !== ttl || entry.body.allowlist.version !== version) return null;
  return freshEnough(entry.body, ttl, deps.now) ? entry.body : null;
}

/**
 * Stores a freshly signed list off the response path. Skipped when this isolate wrote the key
 * within the last second (KV takes one write per key per second); a 429 means another isolate
 * just stored the same version, and is ignored; any other failure is logged (the list was served).
 */
export function rememberAllowlist(deps: CacheDeps, body: SignedAllowlist, x: string): void {
  const ttl = deps.config.ALLOWLIST_TTL_SECONDS;
  const key = allowlistKey(body.allowlist.equipment_id, body.allowlist.version);
  const entry: CachedAllowlist = { v: 1, x, ttl, body };
  const write = writeNowUnlessRecent(key, () =>
    deps.kv.put(key, JSON.stringify(entry), { expirationTtl: Math.max(60, ttl) }),
  );
  if (!write) return;
  deps.waitUntil(
    write.catch((err: unknown) => {
      if (!isKvRateLimited(err)) deps.logger.warn("allow-list cache write failed", { error: errorText(err) });
    }),
  );
}
