import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type RemoteJWKSet } from "jose";
import { createLogger, errorText } from "../platform/logger";

/** An unknown `kid` (or a failed fetch) leads to at most one fetch of the JWKS a minute. */
export const JWKS_REFRESH_COOLDOWN_MS = 60_000;
/** Keys older than this are refetched on the next token (at most once a minute; kept on failure). */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;

/** One successful fetch of the JWKS: verified tokens remember which one judged them. */
export interface KeyGeneration {
  resolve: ReturnType<typeof createLocalJWKSet>;
  loadedAt: number;
}

interface ProviderKeySet {
  remote: RemoteJWKSet;
  current?: KeyGeneration;
  lastAttemptAt: number;
  lastFailureAt: number;
}

/** Per isolate, by JWKS URL. */
const sets = new Map<string, ProviderKeySet>();

function keySet(url: string): ProviderKeySet {
  let set = sets.get(url);
  if (!set) {
    // jose fetches (timeout, no redirects, JSON and JWKS checks); when to fetch is decided here.
    set = {
      remote: createRemoteJWKSet(new URL(url), { timeoutDuration: FETCH_TIMEOUT_MS }),
      lastAttemptAt: Number.NEGATIVE_INFINITY,
      lastFailureAt: Number.NEGATIVE_INFINITY,
    };
    sets.set(url, set);
  }
  return set;
}

async function refresh(url: string, set: ProviderKeySet): Promise<void> {
  set.lastAttemptAt = Date.now();
  try {
    await set.remote.reload();
    const jwks = set.remote.jwks() as JSONWebKeySet;
    set.current = { resolve: createLocalJWKSet(jwks), loadedAt: Date.now() };
  } catch (err) {
    set.lastFailureAt = Date.now();
    createLogger().warn("identity provider keys could not be fetched; keeping the last ones", {
      jwks_url: url,
      error: errorText(err),
      keys_held: set.current !== undefined,
    });
  }
}

const since = (at: number) => Date.now() - at;

/**
 * May this isolate fetch the JWKS now? With keys held: once a minute, whatever the reason (an
 * unknown `kid`, old keys). With none yet (a new isolate): unless a fetch failed within the
 * minute, so concurrent first requests are not refused while the first fetch is in flight, and
 * a provider that is down is not asked again on every request.
 */
function mayFetch(set: ProviderKeySet): boolean {
  if (set.current) return since(set.lastAttemptAt) >= JWKS_REFRESH_COOLDOWN_MS;
  return since(set.lastFailureAt) >= JWKS_REFRESH_COOLDOWN_MS;
}

function stale(set: ProviderKeySet): boolean {
  return !set.current || since(set.current.loadedAt) >= JWKS_MAX_AGE_MS;
}

/** The keys to verify with now, fetched first when missing or old (and allowed to). */
export async function currentKeys(url: string): Promise<KeyGeneration | undefined> {
  const set = keySet(url);
  if (stale(set) && mayFetch(set)) await refresh(url, set);
  return set.current;
}

/** After an unknown `kid`: newer keys, when a fetch is allowed and brings some. */
export async function newerKeys(url: string, than: KeyGeneration): Promise<KeyGeneration | undefined> {
  const set = keySet(url);
  if (!mayFetch(set)) return undefined;
  await refresh(url, set);
  return set.current !== than ? set.current : undefined;
}

/**
 * Whether a token verified with `generation` may still be trusted from the per-isolate cache:
 * only while those are the keys held, and not when they are old and may be refetched (so a key
 * the provider withdrew stops working within JWKS_MAX_AGE_MS plus a minute).
 */
export function stillCurrent(url: string, generation: KeyGeneration): boolean {
  const set = sets.get(url);
  return set?.current === generation && !(stale(set) && mayFetch(set));
}
