import { and, eq } from "drizzle-orm";
import type { Deps } from "../context";
import { userSkills } from "../db/schema";

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

type CacheDeps = Pick<Deps, "db" | "kv" | "config" | "logger">;

/** The D1 read behind the cache: one indexed query on (user_id, status). */
export async function loadCertifications(deps: Pick<Deps, "db">, userId: string): Promise<CachedCertification[]> {
  const rows = await deps.db
    .select({ skill_id: userSkills.skillId, expires_at: userSkills.expiresAt })
    .from(userSkills)
    .where(and(eq(userSkills.userId, userId), eq(userSkills.status, "certified")))
    .all();
  return rows;
}

export async function readCachedCertifications(deps: CacheDeps, userId: string): Promise<CachedCertification[] | null> {
  const entry = await deps.kv.get<CacheEntry>(userSkillsKey(userId), "json");
  return entry?.v === 1 ? entry.certifications : null;
}

export async function writeCachedCertifications(
  deps: CacheDeps,
  userId: string,
  certifications: CachedCertification[],
): Promise<void> {
  const entry: CacheEntry = { v: 1, certifications };
  await deps.kv.put(userSkillsKey(userId), JSON.stringify(entry), {
    expirationTtl: deps.config.USER_SKILLS_CACHE_TTL_SECONDS,
  });
}

/** KV first; on a miss, D1 (one query) and the entry is rebuilt. */
export async function certificationsCached(deps: CacheDeps, userId: string): Promise<CachedCertification[]> {
  const hit = await readCachedCertifications(deps, userId);
  if (hit) return hit;
  const fresh = await loadCertifications(deps, userId);
  await writeCachedCertifications(deps, userId, fresh);
  return fresh;
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
  await Promise.all([...new Set(userIds)].map((id) => deps.kv.delete(userSkillsKey(id))));
}
