import { and, eq } from "drizzle-orm";
import type { Deps } from "../context";
import { userSkills } from "../db/schema";
import { errorText } from "../lib/logger";

/**
 * KV cache of each user's certifications: key `user_skills:{user_id}`, value the rows whose
 * stored status is `certified`, with their `expires_at`. Expiry is decided by the reader against
 * its own clock, so an entry that outlives a certification's `expires_at` never grants access.
 */
export interface CachedCertification {
  skill_id: string;
  expires_at: string | null;
}

interface CacheEntry {
  v: 1;
  certifications: CachedCertification[];
}

export const userSkillsKey = (userId: string) => `user_skills:${userId}`;

const MAX_KV_KEY_BYTES = 512;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const utf8 = new TextEncoder();

/**
 * The KV key for a user, or null when KV cannot hold it (over 512 bytes of UTF-8, or a lone
 * surrogate): such a user is read from D1 every time instead of failing the request.
 */
function cacheKey(userId: string): string | null {
  const key = userSkillsKey(userId);
  return LONE_SURROGATE.test(key) || utf8.encode(key).length > MAX_KV_KEY_BYTES ? null : key;
}

type CacheDeps = Pick<Deps, "db" | "kv" | "config" | "logger">;

/** The D1 read behind the cache: one indexed query on (user_id, status). */
export function certificationsQuery(db: Deps["db"], userId: string) {
  return db
    .select({ skill_id: userSkills.skillId, expires_at: userSkills.expiresAt })
    .from(userSkills)
    .where(and(eq(userSkills.userId, userId), eq(userSkills.status, "certified")));
}

export async function loadCertifications(deps: Pick<Deps, "db">, userId: string): Promise<CachedCertification[]> {
  return certificationsQuery(deps.db, userId).all();
}

export async function readCachedCertifications(deps: CacheDeps, userId: string): Promise<CachedCertification[] | null> {
  const key = cacheKey(userId);
  if (key === null) return null;
  const entry = await deps.kv.get<CacheEntry>(key, "json");
  return entry?.v === 1 ? entry.certifications : null;
}

export async function writeCachedCertifications(
  deps: CacheDeps,
  userId: string,
  certifications: CachedCertification[],
  ttlSeconds = deps.config.USER_SKILLS_CACHE_TTL_SECONDS,
): Promise<void> {
  const key = cacheKey(userId);
  if (key === null) return;
  const entry: CacheEntry = { v: 1, certifications };
  await deps.kv.put(key, JSON.stringify(entry), { expirationTtl: ttlSeconds });
}

/** KV's shortest TTL: how long an entry filled by a reader may outlive a racing change. */
const FILL_TTL_SECONDS = 60;

/**
 * A reader that missed the cache fills it off the response path, and only for KV's minimum TTL:
 * a change that commits between the reader's D1 read and this write has already rewritten the
 * entry, and the reader's older copy must not then stand for the full TTL. A failed fill is only
 * logged — the answer was already read from D1.
 */
export function fillCachedCertifications(
  deps: CacheDeps & Pick<Deps, "waitUntil">,
  userId: string,
  certifications: CachedCertification[],
): void {
  const ttl = Math.min(FILL_TTL_SECONDS, deps.config.USER_SKILLS_CACHE_TTL_SECONDS);
  deps.waitUntil(
    writeCachedCertifications(deps, userId, certifications, ttl).catch((err: unknown) => {
      deps.logger.warn("user-skills cache fill failed", { error: errorText(err) });
    }),
  );
}

/**
 * After a change to a user's certifications has committed, and before the response returns:
 * rewrite the entry from D1 so the next cached check at this location sees the change.
 * (Other locations see it after KV's propagation delay; `verify` reads D1 and never waits for it.)
 */
export async function refreshCachedCertifications(deps: CacheDeps, userId: string): Promise<void> {
  await writeCachedCertifications(deps, userId, await loadCertifications(deps, userId));
}

/** Drops entries (the expiry cron, for many users at once). */
export async function forgetCachedCertifications(deps: Pick<Deps, "kv">, userIds: Iterable<string>): Promise<void> {
  const keys = [...new Set(userIds)].map(cacheKey).filter((k): k is string => k !== null);
  await Promise.all(keys.map((key) => deps.kv.delete(key)));
}
