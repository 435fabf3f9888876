import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { newEvent } from "../audit/events";
import { outboxStatements, publishCommitted } from "../audit/producer";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { insertWhere, isUniqueViolation, runBatch } from "../platform/db/client";
import { byKeys } from "../platform/db/fan-out";
import { skillRequests, skills, userSkills } from "../platform/db/schema";
import { AppError, validationError } from "../platform/errors";
import { newId } from "../platform/ids";
import { iso } from "../platform/time";
import { certify, eventStatement } from "./grants";
import { assertRowReadable, listScope } from "./instructor-rights";
import type { RequestCreate, RequestListQuery, SkillRequest } from "./requests.schemas";
import { inForceSql } from "./rules";
import { type CertificationState, certificationState } from "./state";

/** `reviewed_by` / `certified_by` of requests approved by SKILL_REQUEST_AUTO_APPROVE. */
export const AUTO_APPROVER = "system:auto-approve";

/** Requests as the API returns them (with the skill name). */
export function selectRequests(deps: Deps) {
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

/** One request with its skill's name: a statement a write's batch can read back. */
export function requestQuery(deps: Deps, id: string) {
  return selectRequests(deps).where(eq(skillRequests.id, id));
}

export async function requestById(deps: Deps, id: string): Promise<SkillRequest | undefined> {
  return requestQuery(deps, id).get();
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
function requestRow(
  id: string,
  userId: string,
  skill: { id: string; makerspaceId: string | SQL },
  body: RequestCreate,
  at: string,
) {
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
 * SKILL_REQUEST_AUTO_APPROVE and the prerequisites met it is approved and granted at once (one D1
 * round trip, `certify`). Otherwise two: the skill and the user's standing, then the batch (which
 * reads back the answer).
 */
export async function createRequest(deps: Deps, actor: Principal, body: RequestCreate): Promise<SkillRequest> {
  const userId = requestSubject(actor, body.user_id);
  const refuseIfHeldOrPending = (state: CertificationState) => {
    if (state.held && state.existing) {
      throw new AppError("already_certified", "The user already holds this skill", {
        user_skill_id: state.existing.id,
      });
    }
    if (state.pendingRequestId) throw conflict(state.pendingRequestId);
  };
  if (deps.config.SKILL_REQUEST_AUTO_APPROVE) {
    const approved = await autoApprove(deps, actor, userId, body, refuseIfHeldOrPending);
    if (approved) return approved;
  }
  const state = await certificationState(deps, actor, body.skill_id, userId);
  refuseIfHeldOrPending(state);
  const { skill } = state;
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
  const results = await runBatch(deps.db, [
    deps.db.insert(skillRequests).values({ ...requestRow(id, userId, skill, body, iso(deps.now)), status: "pending" }),
    ...outboxStatements(deps.db, [event]),
    requestQuery(deps, id),
  ]).catch(async (err: unknown) => {
    if (isUniqueViolation(err)) throw conflict(await pendingRequestId(deps, userId, skill.id));
    throw err;
  });
  publishCommitted(deps, [event]);
  return (results[results.length - 1] as SkillRequest[])[0] as SkillRequest;
}

/**
 * The request is written approved, in the same unit of work as the grant (`certify`) and only if
 * the grant applied — which it does only while the user neither holds the skill nor has a pending
 * request for it. Returns null when the prerequisites are not met (now, or by the time the batch
 * ran), or when the skill's fixed date has passed (only a reviewer's explicit `expires_at` can
 * grant it then): the request is then filed pending like any other.
 */
async function autoApprove(
  deps: Deps,
  actor: Principal,
  userId: string,
  body: RequestCreate,
  inspect: (state: CertificationState) => void,
): Promise<SkillRequest | null> {
  const id = newId("req", deps);
  const at = iso(deps.now);
  const skillId = body.skill_id;
  const u = userSkills;
  const r = skillRequests;
  const neitherHeldNorPending = sql`not exists (select 1 from ${u} where ${u.userId} = ${userId}
      and ${u.skillId} = ${skillId} and ${inForceSql(at)})
    and not exists (select 1 from ${r} where ${r.userId} = ${userId} and ${r.skillId} = ${skillId}
      and ${r.status} = 'pending')`;
  const input = { userId, status: "certified" as const, certifiedBy: AUTO_APPROVER, requestId: id };
  const done = await certify<SkillRequest>(deps, actor, skillId, input, {
    guard: neitherHeldNorPending,
    inspect,
    missingPrerequisites: "skip",
    fixedDatePassed: "skip",
    // The member asks for itself; the auto-approver certifies.
    certifier: "system",
    companions: (plan) => {
      const fields = { makerspaceId: "", userId, skillId };
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
        metadata: { request_id: id, user_skill_id: null, auto_approved: true },
      });
      const skill = { id: skillId, makerspaceId: plan.makerspaceId };
      const row = { ...requestRow(id, userId, skill, body, at), status: "approved" as const };
      const inMakerspace: [string, SQL] = ["$.makerspace_id", plan.makerspaceId];
      return {
        statements: [
          insertWhere(deps.db, skillRequests, { ...row, reviewedBy: AUTO_APPROVER, reviewedAt: at }, plan.applied),
          eventStatement(deps.db, created, plan.applied, [inMakerspace]),
          eventStatement(deps.db, approved, plan.applied, [
            inMakerspace,
            ["$.metadata.user_skill_id", plan.userSkillId],
          ]),
        ],
        eventIds: [created.id, approved.id],
      };
    },
    readBack: () => requestQuery(deps, id),
  });
  return done ? (done.rows[0] as SkillRequest) : null;
}
