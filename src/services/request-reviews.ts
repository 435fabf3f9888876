import { and, eq, sql } from "drizzle-orm";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, publishCommitted } from "../audit/producer";
import { inMakerspace } from "../auth/guards";
import type { Principal } from "../auth/principal";
import type { Deps } from "../context";
import { changesOf, runBatch } from "../db/client";
import { skillRequests } from "../db/schema";
import { AppError } from "../lib/errors";
import { iso } from "../lib/time";
import type { RequestReview, SkillRequest } from "../schemas/requests";
import { checkedGrantPlan, MAX_GRANT_ATTEMPTS, syncCertificationCache } from "./grants";
import { assertMayCertify } from "./instructor-rights";
import { requestById } from "./requests";

/**
 * PUT /skills/requests/{id}. Only a pending request may be reviewed; every write is conditional on
 * it still being pending, so of two racing reviews exactly one applies (one approval, one
 * certification) and the other gets 409 `invalid_state`. An approval grants under the same rules
 * as POST /skills/user-skills; when those refuse, the request stays pending.
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
  const stillPending = sql`exists (select 1 from skill_requests where skill_requests.id = ${id}
    and skill_requests.status = 'pending')`;
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
    ]);
    if (changesOf(results[1]) !== 1) throw notPending();
    publishCommitted(deps, [event]);
    return (await requestById(deps, id)) as SkillRequest;
  }

  for (let attempt = 0; attempt < MAX_GRANT_ATTEMPTS; attempt++) {
    const plan = await checkedGrantPlan(
      deps,
      actor,
      row.skillId,
      {
        userId: row.userId,
        status: "certified",
        certifiedBy: actor.sub,
        notes: body.notes,
        quizScore: body.quiz_score,
        expiresAt: body.expires_at,
        requestId: id,
      },
      stillPending,
    );
    const event = newEvent(deps, {
      ...fields,
      action: "request_approved",
      reason: body.notes ?? null,
      metadata: { request_id: id, user_skill_id: plan.userSkillId },
    });
    const results = await runBatch(deps.db, [
      ...plan.statements,
      guardedOutboxStatement(deps.db, event, sql`${stillPending} and ${plan.applied}`),
      deps.db
        .update(skillRequests)
        .set(review)
        .where(and(eq(skillRequests.id, id), eq(skillRequests.status, "pending"), plan.applied)),
    ]);
    if (changesOf(results[results.length - 1]) === 1) {
      await syncCertificationCache(deps, { makerspaceId: row.makerspaceId, userId: row.userId });
      publishCommitted(deps, [plan.event, event]);
      return (await requestById(deps, id)) as SkillRequest;
    }
    const now = await deps.db
      .select({ status: skillRequests.status })
      .from(skillRequests)
      .where(eq(skillRequests.id, id))
      .get();
    if (now?.status !== "pending") throw notPending();
  }
  throw new Error("approval did not apply after repeated insert races");
}
