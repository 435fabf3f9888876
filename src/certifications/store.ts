import { and, asc, desc, eq, ne, type SQL, sql } from "drizzle-orm";
import { allowlistBumps } from "../access/allowlist-versions";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, publishCommitted } from "../audit/producer";
import { inMakerspace } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { changesOf, runBatch } from "../platform/db/client";
import { byKeys, type Order } from "../platform/db/fan-out";
import { skills, userSkills } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { addDays, iso } from "../platform/time";
import { type CachedCertification, certificationsQuery, syncCertificationCache } from "./cache";
import type { UserSkill, UserSkillGrant, UserSkillListQuery } from "./certifications.schemas";
import { type Certified, certify, userSkillOf } from "./grants";
import { assertMayCertify, assertRowReadable, listScope } from "./instructor-rights";
import { userSkillColumns } from "./row";
import { effectiveStatusSql, expiringBySql } from "./rules";

/** Certifications as the API returns them (effective status, skill name). */
export function selectUserSkills(deps: Deps) {
  return deps.db
    .select(userSkillColumns(iso(deps.now)))
    .from(userSkills)
    .innerJoin(skills, eq(skills.id, userSkills.skillId));
}

export async function getUserSkill(deps: Deps, actor: Principal, id: string): Promise<UserSkill> {
  const row = await selectUserSkills(deps).where(eq(userSkills.id, id)).get();
  await assertRowReadable(
    deps,
    actor,
    row && { userId: row.user_id, skillId: row.skill_id, makerspaceId: row.makerspace_id },
    "user_skill_not_found",
    "User skill not found",
  );
  return row as UserSkill;
}

/** The list order of `listUserSkills` (its ORDER BY), for merging shards' pages. */
export function userSkillOrder(q: Pick<UserSkillListQuery, "expiring_within_days">): Order<UserSkill> {
  return q.expiring_within_days !== undefined
    ? byKeys<UserSkill>([(u) => u.expires_at, "asc"], [(u) => u.id, "asc"])
    : byKeys<UserSkill>([(u) => u.created_at, "desc"], [(u) => u.id, "desc"]);
}

/** The list's filters (every query field but paging), shared by the list and the export. */
export type UserSkillFilter = Omit<UserSkillListQuery, "limit" | "offset">;

/**
 * The conditions of a list or export: the caller's scope, then the filters. Rows are ordered by
 * `created_at` then `id`, newest first — or, with `expiring_within_days`, soonest expiry first.
 */
export async function userSkillConditions(deps: Deps, actor: Principal, q: UserSkillFilter): Promise<SQL[]> {
  const scope = await listScope(deps, actor, q);
  const nowIso = iso(deps.now);
  const where: SQL[] = [];
  if (scope.makerspaceId) where.push(eq(userSkills.makerspaceId, scope.makerspaceId));
  if (scope.userId) where.push(eq(userSkills.userId, scope.userId));
  if (q.skill_id) where.push(eq(userSkills.skillId, q.skill_id));
  if (q.status) where.push(sql`${effectiveStatusSql(nowIso)} = ${q.status}`);
  if (q.expiring_within_days !== undefined) {
    const until = iso(addDays(deps.now, q.expiring_within_days));
    where.push(expiringBySql(nowIso, until));
  }
  return where;
}

export async function listUserSkills(deps: Deps, actor: Principal, q: UserSkillListQuery): Promise<UserSkill[]> {
  const order =
    q.expiring_within_days !== undefined
      ? [asc(userSkills.expiresAt), asc(userSkills.id)]
      : [desc(userSkills.createdAt), desc(userSkills.id)];
  return selectUserSkills(deps)
    .where(and(...(await userSkillConditions(deps, actor, q))))
    .orderBy(...order)
    .limit(q.limit)
    .offset(q.offset)
    .all();
}

/**
 * Revocation: conditional on the row not being revoked already, so two racing revocations give
 * one event and one 409. One read, then one batch that also reads back the answer and the user's
 * certifications; the KV entry is rewritten from those before the response returns.
 */
export async function revokeUserSkill(
  deps: Deps,
  actor: Principal,
  id: string,
  reason: string | null,
): Promise<UserSkill> {
  const row = await deps.db.select().from(userSkills).where(eq(userSkills.id, id)).get();
  if (!row || !inMakerspace(actor, row.makerspaceId)) {
    throw new AppError("user_skill_not_found", "User skill not found");
  }
  await assertMayCertify(deps, actor, row.skillId, row.userId);
  const alreadyRevoked = () => new AppError("invalid_state", "User skill is already revoked");
  if (row.status === "revoked") throw alreadyRevoked();
  const event = newEvent(deps, {
    action: "skill_revoked",
    makerspaceId: row.makerspaceId,
    userId: row.userId,
    skillId: row.skillId,
    performedBy: actor.sub,
    reason,
    metadata: { user_skill_id: id, previous_status: row.status },
  });
  const notRevoked = sql`exists (select 1 from ${userSkills} where ${userSkills.id} = ${id} and ${userSkills.status} != 'revoked')`;
  const results = await runBatch(deps.db, [
    guardedOutboxStatement(deps.db, event, notRevoked),
    ...allowlistBumps(deps, { skillIds: [row.skillId] }, notRevoked),
    deps.db
      .update(userSkills)
      .set({ status: "revoked", updatedAt: iso(deps.now) })
      .where(and(eq(userSkills.id, id), ne(userSkills.status, "revoked"))),
    selectUserSkills(deps).where(eq(userSkills.id, id)),
    certificationsQuery(deps.db, { makerspaceId: row.makerspaceId, userId: row.userId }),
  ]);
  const [revoked, answer, current] = results.slice(-3) as [unknown, UserSkill[], CachedCertification[]];
  if (changesOf(revoked) !== 1) throw alreadyRevoked();
  await syncCertificationCache(deps, { makerspaceId: row.makerspaceId, userId: row.userId }, current, {
    removesAccess: true,
  });
  publishCommitted(deps, [event]);
  return answer[0] as UserSkill;
}

/**
 * POST /skills/user-skills: the skill active and in the caller's makerspace, the caller an admin
 * or an instructor of it certifying someone else, its prerequisites held, then one row per user
 * and skill — created (201) or renewed (200), expiring as the skill's validity says unless
 * `expires_at` is given. One D1 round trip.
 */
export async function grantSkill(
  deps: Deps,
  actor: Principal,
  body: UserSkillGrant,
): Promise<{ userSkill: UserSkill; created: boolean }> {
  const input = {
    userId: body.user_id,
    status: body.status,
    certifiedBy: actor.sub,
    notes: body.notes,
    quizScore: body.quiz_score,
    expiresAt: body.expires_at,
  };
  // Without `missingPrerequisites: "skip"`, certify answers or throws.
  const done = (await certify<UserSkill>(deps, actor, body.skill_id, input, {
    readBack: () => selectUserSkills(deps).where(userSkillOf(body.user_id, body.skill_id)),
  })) as Certified<UserSkill>;
  return { userSkill: done.rows[0] as UserSkill, created: done.created };
}
