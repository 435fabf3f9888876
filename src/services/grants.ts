import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import { type AuditEvent, newEvent } from "../audit/events";
import { guardedOutboxStatement } from "../audit/producer";
import { inMakerspace } from "../auth/guards";
import type { Principal } from "../auth/principal";
import { isKvRateLimited } from "../cache/kv-pacing";
import { forgetCachedCertifications, type Member, refreshCachedCertifications } from "../cache/user-skills";
import type { Deps } from "../context";
import { insertWhere, type Statement } from "../db/client";
import { type SkillRow, skillPrerequisites, skills, userSkills } from "../db/schema";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { errorText } from "../lib/logger";
import { iso } from "../lib/time";
import { allowlistBumps } from "./allowlist-versions";
import { assertMayCertify } from "./instructor-rights";
import { expiryFor, validityOf } from "./validity";

/** How many times a grant is re-planned after losing an insert race to a concurrent grant. */
export const MAX_GRANT_ATTEMPTS = 3;

/** A guard that always holds: the grant applies unconditionally. */
export const ALWAYS = sql`1`;

/**
 * The skill a grant or request names: one of the caller's makerspace (another makerspace's is
 * 404, its existence not leaked), then `mayAct` (a 403 comes before any state is revealed), and
 * `active` (else 409 `invalid_state`).
 */
export async function grantableSkill(
  deps: Deps,
  actor: Principal,
  skillId: string,
  mayAct: (skill: SkillRow) => Promise<void> = async () => {},
): Promise<SkillRow> {
  const skill = await deps.db.select().from(skills).where(eq(skills.id, skillId)).get();
  if (!skill || !inMakerspace(actor, skill.makerspaceId)) throw new AppError("skill_not_found", "Skill not found");
  await mayAct(skill);
  if (skill.status !== "active") throw new AppError("invalid_state", `Skill is ${skill.status}, not active`);
  return skill;
}

/** Names of the skill's prerequisites the user does not hold certified and unexpired (one query). */
export async function missingPrerequisites(deps: Deps, userId: string, skillId: string): Promise<string[]> {
  const now = iso(deps.now);
  const rows = await deps.db
    .select({ name: skills.name })
    .from(skillPrerequisites)
    .innerJoin(skills, eq(skills.id, skillPrerequisites.prerequisiteId))
    .where(
      and(
        eq(skillPrerequisites.skillId, skillId),
        sql`not exists (select 1 from user_skills u where u.user_id = ${userId}
              and u.skill_id = ${skillPrerequisites.prerequisiteId} and u.status = 'certified'
              and (u.expires_at is null or u.expires_at > ${now}))`,
      ),
    )
    .orderBy(asc(skills.name))
    .all();
  return rows.map((r) => r.name);
}

export async function assertPrerequisitesMet(deps: Deps, userId: string, skillId: string): Promise<void> {
  const missing = await missingPrerequisites(deps, userId, skillId);
  if (missing.length > 0) {
    throw new AppError("prerequisites_not_met", `Prerequisites not met: ${missing.join(", ")}`, {
      missing_prerequisites: missing,
    });
  }
}

/**
 * The grant rules as SQL, evaluated inside the write's batch: the skill is still active and the
 * user still holds every prerequisite certified and unexpired. A prerequisite revoked (or the
 * skill archived) between the checks above and the batch therefore stops the grant.
 */
function grantPreconditions(skillId: string, userId: string, nowIso: string): SQL {
  return sql`(exists (select 1 from skills s where s.id = ${skillId} and s.status = 'active')
    and not exists (select 1 from skill_prerequisites p where p.skill_id = ${skillId}
      and not exists (select 1 from user_skills u where u.user_id = ${userId}
        and u.skill_id = p.prerequisite_id and u.status = 'certified'
        and (u.expires_at is null or u.expires_at > ${nowIso}))))`;
}

export interface GrantInput {
  userId: string;
  status: "certified" | "pending";
  /** Who certifies: the caller, or the auto-approver. */
  certifiedBy: string;
  notes?: string | null;
  quizScore?: string | null;
  expiresAt?: string | null;
  /** Audit reason and metadata extras (the approving request). */
  reason?: string | null;
  requestId?: string;
}

/** The statements of one grant attempt, all conditional on `guard`. */
export interface GrantPlan {
  userSkillId: string;
  created: boolean;
  /** The write first (its result's `meta.changes` says whether it applied), then the event. */
  statements: Statement[];
  /** True, inside the same batch, exactly when the grant was written (for dependent statements). */
  applied: SQL;
  event: AuditEvent;
}

/**
 * Plans the upsert on (user_id, skill_id): an insert when the user has no row for the skill
 * (201), else an update of that row (a renewal, 200). Without an explicit `expires_at` the
 * skill's validity sets the expiry (`expiryFor`: 409 once a fixed date has passed). Everything
 * is conditional on the grant rules (`grantPreconditions`) and on `callerGuard`, so a caller can
 * tie the grant to another state change in the same batch (an approval). When nothing applied —
 * an insert that lost a race to a concurrent grant, or a rule that stopped holding — callers
 * check the rules again (which then answer 409) and re-plan.
 */
export async function planGrant(deps: Deps, skill: SkillRow, input: GrantInput, callerGuard: SQL): Promise<GrantPlan> {
  const existing = await deps.db
    .select({ id: userSkills.id })
    .from(userSkills)
    .where(and(eq(userSkills.userId, input.userId), eq(userSkills.skillId, skill.id)))
    .get();
  const at = iso(deps.now);
  const guard = sql`(${callerGuard}) and ${grantPreconditions(skill.id, input.userId, at)}`;
  const certified = input.status === "certified";
  const expiresAt = certified ? expiryFor(validityOf(skill, deps.config), deps.now, input.expiresAt) : null;
  const userSkillId = existing?.id ?? newId("us", deps);
  const event = newEvent(deps, {
    action: existing ? "skill_renewed" : "skill_granted",
    makerspaceId: skill.makerspaceId,
    userId: input.userId,
    skillId: skill.id,
    performedBy: input.certifiedBy,
    reason: input.reason ?? input.notes ?? null,
    metadata: {
      user_skill_id: userSkillId,
      status: input.status,
      expires_at: expiresAt,
      quiz_score: input.quizScore ?? null,
      ...(input.requestId ? { request_id: input.requestId } : {}),
    },
  });

  if (existing) {
    const changes: Partial<typeof userSkills.$inferInsert> = {
      status: input.status,
      certifiedAt: certified ? at : null,
      expiresAt,
      certifiedBy: input.certifiedBy,
      updatedAt: at,
    };
    if (input.notes !== undefined) changes.notes = input.notes;
    if (input.quizScore !== undefined) changes.quizScore = input.quizScore;
    return {
      userSkillId,
      created: false,
      statements: [
        deps.db
          .update(userSkills)
          .set(changes)
          .where(and(eq(userSkills.id, userSkillId), guard)),
        guardedOutboxStatement(deps.db, event, guard),
        ...allowlistBumps(deps, { skillIds: [skill.id] }, guard),
      ],
      applied: guard,
      event,
    };
  }

  const insert = insertWhere(
    deps.db,
    userSkills,
    {
      id: userSkillId,
      userId: input.userId,
      skillId: skill.id,
      makerspaceId: skill.makerspaceId,
      status: input.status,
      certifiedAt: certified ? at : null,
      expiresAt,
      certifiedBy: input.certifiedBy,
      notes: input.notes ?? null,
      quizScore: input.quizScore ?? null,
      createdAt: at,
      updatedAt: at,
    },
    guard,
  ).onConflictDoNothing({ target: [userSkills.userId, userSkills.skillId] });
  const applied = sql`exists (select 1 from user_skills where user_skills.id = ${userSkillId})`;
  return {
    userSkillId,
    created: true,
    statements: [
      insert,
      guardedOutboxStatement(deps.db, event, applied),
      ...allowlistBumps(deps, { skillIds: [skill.id] }, applied),
    ],
    applied,
    event,
  };
}

/**
 * One grant attempt's plan, after the rules are checked afresh (403s and 409s come from here):
 * callers loop on this, since a plan whose batch did not apply is re-checked and re-planned. The
 * caller must be an admin or an instructor of the skill certifying someone else.
 */
export async function checkedGrantPlan(
  deps: Deps,
  actor: Principal,
  skillId: string,
  input: GrantInput,
  guard: SQL,
): Promise<GrantPlan> {
  const skill = await grantableSkill(deps, actor, skillId, (row) =>
    assertMayCertify(deps, actor, row.id, input.userId),
  );
  await assertPrerequisitesMet(deps, input.userId, skill.id);
  return planGrant(deps, skill, input, guard);
}

/**
 * After a certification change has committed and before the response returns: rewrite the
 * user's KV entry from D1 (`refreshCachedCertifications`: paced to KV's one write per key per
 * second, so this may wait up to a second when the user changed a moment ago). A KV error is
 * logged, never turned into an error for a change that has already happened:
 * - KV kept refusing the key (other writers within each second): the write is tried again off
 *   the response path, and only if that fails too the entry may stay stale until its TTL;
 * - KV failed otherwise: the entry is dropped, so the next check rebuilds it from D1.
 */
export async function syncCertificationCache(deps: Deps, member: Member): Promise<void> {
  try {
    await refreshCachedCertifications(deps, member);
    return;
  } catch (err) {
    if (isKvRateLimited(err)) {
      deps.logger.warn("user-skills cache write refused by KV; retrying off the response path", {
        error: errorText(err),
      });
      deps.waitUntil(
        refreshCachedCertifications(deps, member, 3).catch((again: unknown) => {
          deps.logger.error("user-skills cache entry may stay stale until its TTL", { error: errorText(again) });
        }),
      );
      return;
    }
    deps.logger.warn("user-skills cache refresh failed; dropping the entry", { error: errorText(err) });
  }
  if ((await forgetCachedCertifications(deps, [member])) > 0) {
    deps.logger.error("user-skills cache entry could not be dropped");
  }
}
