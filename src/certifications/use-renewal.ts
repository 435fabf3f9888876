import { and, eq, isNull, lt, lte, or, sql } from "drizzle-orm";
import { allowlistBumps } from "../access/allowlist-versions";
import type { HeldCertification } from "../access/decide";
import type { EquipmentRequirements } from "../access/requirements-cache";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, sendCommitted } from "../audit/producer";
import type { Deps } from "../platform/context";
import { changesOf, runBatch, type Statement } from "../platform/db/client";
import { userSkills } from "../platform/db/schema";
import { errorText } from "../platform/logger";
import { addDays, iso } from "../platform/time";
import { type CachedCertification, certificationsQuery, syncCertificationCache } from "./cache";
import { inForceWithExpirySql, isInForceWithExpiry } from "./rules";

/** `performed_by` of renewals by use. */
export const USE_RENEWER = "system:use";

/** At most one renewal by use per certification in this long (the grant itself does not count). */
export const USE_RENEWAL_INTERVAL_MS = 3_600_000;

/**
 * Per isolate: when this isolate last sent a renewal by use of each certification, so a door
 * busy with one member writes once an hour, not once a tap. The SQL guard in
 * {@link renewByUse} holds the limit across isolates; this only spares them the attempt.
 */
const attempted = new Map<string, number>();
const MAX_ATTEMPTS_TRACKED = 10_000;

function recently(atMs: number | undefined, nowMs: number): boolean {
  return atMs !== undefined && nowMs - atMs < USE_RENEWAL_INTERVAL_MS;
}

function remember(userSkillId: string, nowMs: number): void {
  attempted.delete(userSkillId);
  if (attempted.size >= MAX_ATTEMPTS_TRACKED) {
    const oldest = attempted.keys().next().value;
    if (oldest !== undefined) attempted.delete(oldest);
  }
  attempted.set(userSkillId, nowMs);
}

/** One certification an allowed `verify` renews. */
export interface UseRenewal {
  userSkillId: string;
  skillId: string;
  days: number;
  previousExpiresAt: string;
}

/**
 * The certifications an allowed `verify` of `item` renews: those of its `renew_on_use` skills
 * that the user holds certified and unexpired (a never-expiring one is left alone), not renewed
 * by use within the hour — neither by the row as read nor by an attempt of this isolate.
 */
function dueRenewals(now: Date, item: EquipmentRequirements, held: HeldCertification[]): UseRenewal[] {
  const nowMs = now.getTime();
  const nowIso = iso(now);
  const due: UseRenewal[] = [];
  for (const skill of item.requiredSkills) {
    if (skill.renewOnUseDays === null) continue;
    const cert = held.find((c) => c.skill_id === skill.id);
    // `held` are stored-certified rows (a strong read).
    if (!cert?.id || !isInForceWithExpiry({ status: "certified", expires_at: cert.expires_at }, nowIso)) continue;
    const lastRenewal = cert.last_use_renewal_at ? Date.parse(cert.last_use_renewal_at) : undefined;
    if (recently(lastRenewal, nowMs) || recently(attempted.get(cert.id), nowMs)) continue;
    remember(cert.id, nowMs);
    due.push({
      userSkillId: cert.id,
      skillId: skill.id,
      days: skill.renewOnUseDays,
      previousExpiresAt: cert.expires_at as string,
    });
  }
  return due;
}

/**
 * After an allowed `verify`: renews what is due ({@link dueRenewals}) off the response path, so
 * the door never waits for it. A failure is logged; the verify's answer stands.
 */
export function renewOnUse(deps: Deps, item: EquipmentRequirements, userId: string, held: HeldCertification[]): void {
  const due = dueRenewals(deps.now, item, held);
  if (due.length === 0) return;
  deps.waitUntil(
    renewByUse(deps, { userId, makerspaceId: item.makerspaceId, equipmentId: item.id }, due).catch((err: unknown) => {
      deps.logger.warn("renewal by use failed", { error: errorText(err) });
    }),
  );
}

/**
 * Moves each certification's `expires_at` to now + its skill's days, with its `skill_renewed`
 * event (`performed_by: "system:use"`) in the same batch. Both are conditional in SQL on the row
 * still being certified and unexpired, on the new date being later (a use never shortens a
 * certification), and on no renewal by use within the hour — so of any number of concurrent
 * uses, in any isolates, one writes. The batch also reads back the user's certifications, and the
 * KV entry is rewritten from them (a renewal only extends access). Returns how many certifications
 * were renewed.
 */
export async function renewByUse(
  deps: Deps,
  use: { userId: string; makerspaceId: string; equipmentId: string },
  due: UseRenewal[],
): Promise<number> {
  const nowIso = iso(deps.now);
  const cutoff = iso(new Date(deps.now.getTime() - USE_RENEWAL_INTERVAL_MS));
  const statements: Statement[] = [];
  /** Where each renewal's update sits in the batch: its row count says whether it applied. */
  const updateAt: number[] = [];
  const events = due.map((r) => {
    const expiresAt = iso(addDays(deps.now, r.days));
    const renewable = and(
      eq(userSkills.id, r.userSkillId),
      inForceWithExpirySql(nowIso),
      lt(userSkills.expiresAt, expiresAt),
      or(isNull(userSkills.lastUseRenewalAt), lte(userSkills.lastUseRenewalAt, cutoff)),
    );
    const event = newEvent(deps, {
      action: "skill_renewed",
      makerspaceId: use.makerspaceId,
      userId: use.userId,
      skillId: r.skillId,
      performedBy: USE_RENEWER,
      reason: "Renewed by use",
      metadata: {
        user_skill_id: r.userSkillId,
        expires_at: expiresAt,
        previous_expires_at: r.previousExpiresAt,
        equipment_id: use.equipmentId,
      },
    });
    const applies = sql`exists (select 1 from ${userSkills} where ${renewable})`;
    statements.push(
      guardedOutboxStatement(deps.db, event, applies),
      // The entry's `expires_at` on every list of an item requiring the skill moves with it.
      ...allowlistBumps(deps, { skillIds: [r.skillId] }, applies),
    );
    updateAt.push(statements.length);
    statements.push(
      deps.db.update(userSkills).set({ expiresAt, lastUseRenewalAt: nowIso, updatedAt: nowIso }).where(renewable),
    );
    return event;
  });
  const results = await runBatch(deps.db, [...statements, certificationsQuery(deps.db, use)]);
  const renewed = events.filter((_, i) => changesOf(results[updateAt[i] ?? -1]) === 1);
  if (renewed.length === 0) return 0;
  const current = results[results.length - 1] as CachedCertification[];
  await syncCertificationCache(deps, use, current, { removesAccess: false });
  await sendCommitted(deps, renewed);
  return renewed.length;
}
