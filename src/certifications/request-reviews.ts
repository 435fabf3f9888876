import { and, eq, sql } from "drizzle-orm";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, publishCommitted } from "../audit/producer";
import { inMakerspace } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { changesOf, runBatch } from "../platform/db/client";
import { skillRequests } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { iso } from "../platform/time";
import { type Certified, certify, eventStatement } from "./grants";
import { assertMayCertify } from "./instructor-rights";
import { requestQuery } from "./requests";
import type { RequestReview, SkillRequest } from "./requests.schemas";

/**
 * PUT /skills/requests/{id}. Only a pending request may be reviewed; every write is conditional on
 * it still being pending, so of two racing reviews exactly one applies (one approval, one
 * certification) and the other gets 409 `invalid_state`. An approval grants under the same rules
 * as POST /skills/user-skills (the same unit of work, `certify`); when those refuse, the request
 * stays pending. The reviewer must be an admin or an instructor of the skill reviewing someone
 * else's request. Two D1 round trips for an admin: the request, then the batch (an instructor's
 * assignment is one more read).
 */
export async function reviewRequest(
  deps: Deps,
  actor: Principal,
  id: string,
  body: RequestReview,
): Promise<SkillRequest> {
  const row = await deps.db.select().from(skillRequests).where(eq(skillRequests.id, id)).get();
  if (!row || !inMakerspace(actor, row.makerspaceId)) {
    throw new AppError("request_not_found", "Skill request not found");
  }
  await assertMayCertify(deps, actor, row.skillId, row.userId);
  const notPending = () => new AppError("invalid_state", "Only a pending request can be reviewed");
  if (row.status !== "pending") throw notPending();
  const at = iso(deps.now);
  const stillPending = sql`exists (select 1 from ${skillRequests} where ${skillRequests.id} = ${id}
    and ${skillRequests.status} = 'pending')`;
  const review = {
    status: body.status,
    reviewedBy: actor.sub,
    reviewedAt: at,
    updatedAt: at,
    ...(body.notes !== undefined ? { notes: body.notes } : {}),
  };
  const fields = { makerspaceId: row.makerspaceId, userId: row.userId, skillId: row.skillId, performedBy: actor.sub };

  if (body.status === "rejected") {
    const event = newEvent(deps, {
      ...fields,
      action: "request_rejected",
      reason: body.notes ?? null,
      metadata: { request_id: id },
    });
    const results = await runBatch(deps.db, [
      guardedOutboxStatement(deps.db, event, stillPending),
      deps.db
        .update(skillRequests)
        .set(review)
        .where(and(eq(skillRequests.id, id), eq(skillRequests.status, "pending"))),
      requestQuery(deps, id),
    ]);
    if (changesOf(results[1]) !== 1) throw notPending();
    publishCommitted(deps, [event]);
    return (results[2] as SkillRequest[])[0] as SkillRequest;
  }

  const input = {
    userId: row.userId,
    status: "certified" as const,
    certifiedBy: actor.sub,
    notes: body.notes,
    quizScore: body.quiz_score,
    expiresAt: body.expires_at,
    requestId: id,
  };
  const done = (await certify<SkillRequest>(deps, actor, row.skillId, input, {
    guard: stillPending,
    companions: (plan) => {
      const approved = newEvent(deps, {
        ...fields,
        action: "request_approved",
        reason: body.notes ?? null,
        metadata: { request_id: id, user_skill_id: null },
      });
      return {
        statements: [
          eventStatement(deps.db, approved, sql`${stillPending} and ${plan.applied}`, [
            ["$.metadata.user_skill_id", plan.userSkillId],
          ]),
          deps.db
            .update(skillRequests)
            .set(review)
            .where(and(eq(skillRequests.id, id), eq(skillRequests.status, "pending"), plan.applied)),
        ],
        eventIds: [approved.id],
      };
    },
    readBack: () => requestQuery(deps, id),
    // Reviewed by someone else meanwhile: nothing to try again.
    notApplied: ([current]) => {
      if (current?.status !== "pending") throw notPending();
    },
  })) as Certified<SkillRequest>;
  return done.rows[0] as SkillRequest;
}
