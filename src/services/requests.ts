import { and, desc, eq, gt, isNull, or, type SQL } from "drizzle-orm";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, outboxStatements, publishCommitted } from "../audit/producer";
import type { Principal } from "../auth/principal";
import type { Deps } from "../context";
import { changesOf, insertWhere, isUniqueViolation, runBatch } from "../db/client";
import { byKeys } from "../db/fan-out";
import { type SkillRow, skillRequests, skills, userSkills } from "../db/schema";
import { AppError, validationError } from "../lib/errors";
import { newId } from "../lib/ids";
import { iso } from "../lib/time";
import type { RequestCreate, RequestListQuery, SkillRequest } from "../schemas/requests";
import {
  ALWAYS,
  grantableSkill,
  MAX_GRANT_ATTEMPTS,
  missingPrerequisites,
  planGrant,
  syncCertificationCache,
} from "./grants";
import { assertRowReadable, listScope } from "./instructor-rights";
import { fixedDatePassed, validityOf } from "./validity";

/** `reviewed_by` / `certified_by` of requests approved by SKILL_REQUEST_AUTO_APPROVE. */
export const AUTO_APPROVER = "system:auto-approve";

function selectRequests(deps: Deps) {
  return deps.db
    .select({
      id: skillRequests.id,
      user_id: skillRequests.userId,
      skill_id: skillRequests.skillId,
      skill_name: skills.name,
      makerspace_id: skillRequests.makerspaceId,
      status: skillRequests.status,
      reason: skillRequests.reason,
      notes: skillRequests.notes,
      reviewed_by: skillRequests.reviewedBy,
      reviewed_at: skillRequests.reviewedAt,
      created_at: skillRequests.createdAt,
      updated_at: skillRequests.updatedAt,
    })
    .from(skillRequests)
    .innerJoin(skills, eq(skills.id, skillRequests.skillId));
}

export async function requestById(deps: Deps, id: string): Promise<SkillRequest | undefined> {
  return selectRequests(deps).where(eq(skillRequests.id, id)).get();
}

export async function getRequest(deps: Deps, actor: Principal, id: string): Promise<SkillRequest> {
  const row = await requestById(deps, id);
  const ref = row && { userId: row.user_id, skillId: row.skill_id, makerspaceId: row.makerspace_id };
  await assertRowReadable(deps, actor, ref, "request_not_found", "Skill request not found");
  return row as SkillRequest;
}

/** The list order of `listRequests` (its ORDER BY), for merging shards' pages. */
export const REQUEST_ORDER = byKeys<SkillRequest>([(r) => r.created_at, "desc"], [(r) => r.id, "desc"]);

export async function listRequests(deps: Deps, actor: Principal, q: RequestListQuery): Promise<SkillRequest[]> {
  const scope = await listScope(deps, actor, q);
  const where: SQL[] = [];
  if (scope.makerspaceId) where.push(eq(skillRequests.makerspaceId, scope.makerspaceId));
  if (scope.userId) where.push(eq(skillRequests.userId, scope.userId));
  if (q.skill_id) where.push(eq(skillRequests.skillId, q.skill_id));
  if (q.status) where.push(eq(skillRequests.status, q.status));
  return selectRequests(deps)
    .where(and(...where))
    .orderBy(desc(skillRequests.createdAt), desc(skillRequests.id))
    .limit(q.limit)
    .offset(q.offset)
    .all();
}

/**
 * Whom a request is for: a member itself (the route's `own-user` scope has refused any other
 * user), an admin the named user or itself, a kiosk the member it must name.
 */
function requestSubject(actor: Principal, userId: string | undefined): string {
  if (actor.role === "member") return actor.sub;
  if (userId !== undefined) return userId;
  if (actor.role === "device") throw validationError([{ path: "user_id", message: "is required for kiosk requests" }]);
  return actor.sub;
}

async function pendingRequestId(deps: Deps, userId: string, skillId: string): Promise<string | undefined> {
  const row = await deps.db
    .select({ id: skillRequests.id })
    .from(skillRequests)
    .where(
      and(eq(skillRequests.userId, userId), eq(skillRequests.skillId, skillId), eq(skillRequests.status, "pending")),
    )
    .get();
  return row?.id;
}

/** The fields every new request row has, whatever its status. */
function requestRow(id: string, userId: string, skill: SkillRow, body: RequestCreate, at: string) {
  return {
    id,
    userId,
    skillId: skill.id,
    makerspaceId: skill.makerspaceId,
    reason: body.reason ?? null,
    notes: body.notes ?? null,
    createdAt: at,
    updatedAt: at,
  };
}

function conflict(existingId: string | undefined): AppError {
  return new AppError("request_conflict", "A pending request already exists for this user and skill", {
    existing_request_id: existingId ?? null,
  });
}

/**
 * POST /skills/requests. Refused while the user holds the skill certified and unexpired, or has a
 * pending request for it (the partial unique index settles racing creations). With
 * SKILL_REQUEST_AUTO_APPROVE and the prerequisites met it is approved and granted at once.
 */
export async function createRequest(deps: Deps, actor: Principal, body: RequestCreate): Promise<SkillRequest> {
  const userId = requestSubject(actor, body.user_id);
  const skill = await grantableSkill(deps, actor, body.skill_id);
  const nowIso = iso(deps.now);
  const held = await deps.db
    .select({ id: userSkills.id })
    .from(userSkills)
    .where(
      and(
        eq(userSkills.userId, userId),
        eq(userSkills.skillId, skill.id),
        eq(userSkills.status, "certified"),
        or(isNull(userSkills.expiresAt), gt(userSkills.expiresAt, nowIso)),
      ),
    )
    .get();
  if (held) {
    throw new AppError("already_certified", "The user already holds this skill", { user_skill_id: held.id });
  }
  const pending = await pendingRequestId(deps, userId, skill.id);
  if (pending) throw conflict(pending);

  if (deps.config.SKILL_REQUEST_AUTO_APPROVE) {
    const approved = await autoApprove(deps, actor, skill, userId, body);
    if (approved) return approved;
  }

  const id = newId("req", deps);
  const event = newEvent(deps, {
    action: "request_created",
    makerspaceId: skill.makerspaceId,
    userId,
    skillId: skill.id,
    performedBy: actor.sub,
    reason: body.reason ?? null,
    metadata: { request_id: id },
  });
  await runBatch(deps.db, [
    deps.db.insert(skillRequests).values({ ...requestRow(id, userId, skill, body, nowIso), status: "pending" }),
    ...outboxStatements(deps.db, [event]),
  ]).catch(async (err: unknown) => {
    if (isUniqueViolation(err)) throw conflict(await pendingRequestId(deps, userId, skill.id));
    throw err;
  });
  publishCommitted(deps, [event]);
  return (await requestById(deps, id)) as SkillRequest;
}

/**
 * The request is written approved, in the same batch as the grant and only if the grant applied.
 * Returns null when the prerequisites are not met (now, or by the time the batch ran), or when
 * the skill's fixed date has passed (only a reviewer's explicit `expires_at` can grant it then):
 * the request is then filed pending like any other.
 */
async function autoApprove(
  deps: Deps,
  actor: Principal,
  skill: SkillRow,
  userId: string,
  body: RequestCreate,
): Promise<SkillRequest | null> {
  if (fixedDatePassed(validityOf(skill, deps.config), deps.now)) return null;
  const id = newId("req", deps);
  const at = iso(deps.now);
  for (let attempt = 0; attempt < MAX_GRANT_ATTEMPTS; attempt++) {
    if ((await missingPrerequisites(deps, userId, skill.id)).length > 0) return null;
    const grant = { userId, status: "certified" as const, certifiedBy: AUTO_APPROVER, requestId: id };
    const plan = await planGrant(deps, skill, grant, ALWAYS);
    const fields = { makerspaceId: skill.makerspaceId, userId, skillId: skill.id };
    const created = newEvent(deps, {
      ...fields,
      action: "request_created",
      performedBy: actor.sub,
      reason: body.reason ?? null,
      metadata: { request_id: id, auto_approved: true },
    });
    const approved = newEvent(deps, {
      ...fields,
      action: "request_approved",
      performedBy: AUTO_APPROVER,
      metadata: { request_id: id, user_skill_id: plan.userSkillId, auto_approved: true },
    });
    const results = await runBatch(deps.db, [
      ...plan.statements,
      insertWhere(
        deps.db,
        skillRequests,
        { ...requestRow(id, userId, skill, body, at), status: "approved", reviewedBy: AUTO_APPROVER, reviewedAt: at },
        plan.applied,
      ),
      guardedOutboxStatement(deps.db, created, plan.applied),
      guardedOutboxStatement(deps.db, approved, plan.applied),
    ]);
    if (changesOf(results[0]) === 1) {
      await syncCertificationCache(deps, { makerspaceId: skill.makerspaceId, userId });
      publishCommitted(deps, [created, approved, plan.event]);
      return (await requestById(deps, id)) as SkillRequest;
    }
  }
  throw new Error("auto-approval did not apply after repeated insert races");
}
