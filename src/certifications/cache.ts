import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Deps } from "../platform/context";
import { userSkills } from "../platform/db/schema";
import { isKvRateLimited, pacedWrite, writeNowUnlessRecent } from "../platform/kv-pacing";
import { errorText } from "../platform/logger";
import { certificationMemo, isUnsettled, KV_READ_CACHE_TTL_SECONDS, unsettledUntil } from "./cache-memo";
import { type CertificationRow, certificationFields } from "./row";
import { storedCertifiedSql } from "./rules";

/**
 * KV cache of each member's certifications: key `user_skills:{makerspace_id}:{user_id}` (user ids
 * are per makerspace: two makerspaces — on one shard or two — may each have a `user-1`), value
 * the member's rows in that makerspace whose stored status is `certified`, with their
 * `expires_at`. Expiry is decided by the reader against its own clock, so an entry that outlives
 * a certification's `expires_at` never grants access.
 */
export type CachedCertification = Pick<CertificationRow, "skill_id" | "expires_at">;

interface CacheEntry {
  v: 1;
  certifications: CachedCertification[];
}

/** A member: who, in which makerspace. */
export interface Member {
  makerspaceId: string;
  userId: string;
}

/** `%` and `:` in the makerspace id are escaped, so the first `:` after it ends it unambiguously. */
export const userSkillsKey = (makerspaceId: string, userId: string) =>
  `user_skills:${makerspaceId.replace(/%/g, "%25").replace(/:/g, "%3A")}:${userId}`;

const MAX_KV_KEY_BYTES = 512;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const utf8 = new TextEncoder();

/**
 * The KV key for a user, or null when KV cannot hold it (over 512 bytes of UTF-8, or a lone
 * surrogate): such a user is read from D1 every time instead of failing the request.
 */
function cacheKey(m: Member): string | null {
  const key = userSkillsKey(m.makerspaceId, m.userId);
  return LONE_SURROGATE.test(key) || utf8.encode(key).length > MAX_KV_KEY_BYTES ? null : key;
}

type CacheDeps = Pick<Deps, "db" | "kv" | "config" | "logger" | "now">;

/**
 * The D1 read behind the cache: one indexed query on (user_id, status). The makerspace may be an
 * SQL expression, for a batch that learns it inside (a super_admin's grant: the skill's).
 */
export function certificationsQuery(db: Deps["db"], m: { makerspaceId: string | SQL; userId: string }) {
  return db
    .select(certificationFields("skill_id", "expires_at"))
    .from(userSkills)
    .where(
      and(
        eq(userSkills.userId, m.userId),
        storedCertifiedSql(),
        typeof m.makerspaceId === "string"
          ? eq(userSkills.makerspaceId, m.makerspaceId)
          : sql`${userSkills.makerspaceId} = ${m.makerspaceId}`,
      ),
    );
}

export async function loadCertifications(deps: Pick<Deps, "db">, m: Member): Promise<CachedCertification[]> {
  return certificationsQuery(deps.db, m).all();
}

/**
 * The member's certifications for a `consistency=cached` check, or null when the caller must read
 * D1: from this isolate's memo when it holds a copy at most a few seconds old, else from KV (and
 * remembered). A member with a change committed here whose KV write is still waiting reads D1.
 */
export async function readCachedCertifications(deps: CacheDeps, m: Member): Promise<CachedCertification[] | null> {
  const key = cacheKey(m);
  if (key === null || isUnsettled(deps.kv, key)) return null;
  const memo = certificationMemo(deps.kv);
  const nowMs = deps.now.getTime();
  const copy = memo.get(key, nowMs);
  if (copy) return copy;
  const ticket = memo.ticket(nowMs);
  const entry = await deps.kv.get<CacheEntry>(key, { type: "json", cacheTtl: KV_READ_CACHE_TTL_SECONDS });
  if (entry?.v !== 1) return null;
  memo.fill(key, entry.certifications, ticket);
  return entry.certifications;
}

async function putEntry(
  deps: CacheDeps,
  key: string,
  certifications: CachedCertification[],
  ttlSeconds: number,
): Promise<void> {
  const entry: CacheEntry = { v: 1, certifications };
  await deps.kv.put(key, JSON.stringify(entry), { expirationTtl: ttlSeconds });
}

/** KV's shortest TTL: how long an entry filled by a reader may outlive a racing change. */
const FILL_TTL_SECONDS = 60;

/**
 * A reader that missed the cache fills it off the response path, and only for KV's minimum TTL:
 * a change that commits between the reader's D1 read and this write has already rewritten the
 * entry, and the reader's older copy must not then stand for the full TTL. No fill is made when
 * this isolate wrote the key within the last second (KV would refuse it, and the entry is fresh);
 * a refusal from KV means someone else just wrote it. Any other failure is only logged — the
 * answer was already read from D1.
 */
export function fillCachedCertifications(
  deps: CacheDeps & Pick<Deps, "waitUntil">,
  m: Member,
  certifications: CachedCertification[],
): void {
  const key = cacheKey(m);
  if (key === null) return;
  const ttl = Math.min(FILL_TTL_SECONDS, deps.config.USER_SKILLS_CACHE_TTL_SECONDS);
  const fill = writeNowUnlessRecent(key, () => putEntry(deps, key, certifications, ttl));
  if (!fill) return;
  deps.waitUntil(
    fill.catch((err: unknown) => {
      if (!isKvRateLimited(err)) deps.logger.warn("user-skills cache fill failed", { error: errorText(err) });
    }),
  );
}

/**
 * After a change to a user's certifications has committed, and before the response returns:
 * rewrite the entry from D1 so the next cached check at this location sees the change. KV takes
 * one write per key per second, so the write is paced (`pacedWrite`): it may wait up to a second
 * after this isolate's previous write of the key, it reads D1 only when it goes (so it carries
 * every change committed before it, and concurrent changes share one write), and a refusal caused
 * by another isolate is retried a second later. Throws KV's last refusal when every try was
 * refused. (Other locations see the entry after KV's propagation delay; `verify` reads D1.)
 */
export async function refreshCachedCertifications(deps: CacheDeps, m: Member, attempts = 2): Promise<void> {
  const key = cacheKey(m);
  if (key === null) return;
  await pacedWrite(
    key,
    async () => putEntry(deps, key, await loadCertifications(deps, m), deps.config.USER_SKILLS_CACHE_TTL_SECONDS),
    attempts,
  );
}

/**
 * Drops entries (the expiry cron, for many users at once). Best effort: readers judge
 * `expires_at` themselves, so an entry still listing an expired certification grants nothing;
 * a key written within the last second is left alone, and a refused or failed delete is counted,
 * never thrown. Returns how many entries could not be dropped.
 */
export async function forgetCachedCertifications(deps: Pick<Deps, "kv">, members: Iterable<Member>): Promise<number> {
  const keys = [...new Set([...members].map(cacheKey).filter((k): k is string => k !== null))];
  const memo = certificationMemo(deps.kv);
  for (const key of keys) memo.delete(key);
  const deletes = keys.map((key) => writeNowUnlessRecent(key, () => deps.kv.delete(key)) ?? Promise.reject());
  const results = await Promise.allSettled(deletes);
  return results.filter((r) => r.status === "rejected").length;
}

/**
 * After a change to a member's certifications has committed: rewrite the KV entry so the next
 * cached check at this location sees it. `current` is the member's certified rows as the change's
 * own batch read them back, so the usual case costs one KV write and no D1 read. KV takes one
 * write per key per second, so when this isolate wrote the key within the second:
 * - a change that can take access away (a revocation, a certification made pending) waits for
 *   the key's second (`refreshCachedCertifications`: paced, reads D1 when it goes, so it carries
 *   every change committed before it) and returns after the write;
 * - a change that only grants or extends access returns at once and the paced write follows off
 *   the response path: other isolates may answer "not yet" for up to a second, never "yes" wrongly.
 * Either way this isolate's cached checks read D1 for that member until the entry is written.
 *
 * A KV error is logged, never turned into an error for a change that has already happened:
 * KV kept refusing the key (other writers within each second) → tried again off the response
 * path; KV failed otherwise → the entry is dropped, so the next check rebuilds it from D1.
 */
export async function syncCertificationCache(
  deps: CacheDeps & Pick<Deps, "waitUntil">,
  m: Member,
  current: CachedCertification[],
  { removesAccess }: { removesAccess: boolean },
): Promise<void> {
  const key = cacheKey(m);
  if (key === null) return;
  certificationMemo(deps.kv).delete(key);
  const ttl = deps.config.USER_SKILLS_CACHE_TTL_SECONDS;
  const now = writeNowUnlessRecent(key, () => putEntry(deps, key, current, ttl));
  try {
    if (now) await now;
    else if (!removesAccess) deferRefresh(deps, m, key, 3);
    else await unsettledUntil(deps.kv, key, refreshCachedCertifications(deps, m));
    return;
  } catch (err) {
    if (isKvRateLimited(err)) {
      deps.logger.warn("user-skills cache write refused by KV; retrying off the response path", {
        error: errorText(err),
      });
      deferRefresh(deps, m, key, 3);
      return;
    }
    deps.logger.warn("user-skills cache refresh failed; dropping the entry", { error: errorText(err) });
  } finally {
    certificationMemo(deps.kv).delete(key);
  }
  if ((await forgetCachedCertifications(deps, [m])) > 0) {
    deps.logger.error("user-skills cache entry could not be dropped");
  }
}

/** The paced rewrite, off the response path; this isolate reads D1 for the member meanwhile. */
function deferRefresh(deps: CacheDeps & Pick<Deps, "waitUntil">, m: Member, key: string, attempts: number): void {
  deps.waitUntil(
    unsettledUntil(deps.kv, key, refreshCachedCertifications(deps, m, attempts)).catch((err: unknown) => {
      deps.logger.error("user-skills cache entry may stay stale until its TTL", { error: errorText(err) });
    }),
  );
}
