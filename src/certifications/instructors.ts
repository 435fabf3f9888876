import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, publishCommitted } from "../audit/producer";
import { selectSkills, toSkill } from "../catalogue/skills";
import type { Skill } from "../catalogue/skills.schemas";
import type { Paging } from "../http/common.schemas";
import { scopeMakerspace, visibleOr404 } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { changesOf, runBatch } from "../platform/db/client";
import { byKeys, sqliteLower } from "../platform/db/fan-out";
import { skillInstructors, skills } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { iso } from "../platform/time";
import type { Instructor, InstructorSearchQuery } from "./instructors.schemas";

function selectInstructors(deps: Deps) {
  return deps.db
    .select({
      user_id: skillInstructors.userId,
      skill_id: skillInstructors.skillId,
      skill_name: skills.name,
      makerspace_id: skillInstructors.makerspaceId,
      created_at: skillInstructors.createdAt,
      created_by: skillInstructors.createdBy,
    })
    .from(skillInstructors)
    .innerJoin(skills, eq(skills.id, skillInstructors.skillId));
}

const assignment = (skillId: string, userId: string) =>
  and(eq(skillInstructors.skillId, skillId), eq(skillInstructors.userId, userId));

/** The skill named in the path: 404 when missing or in another makerspace. */
async function visibleSkill(deps: Deps, actor: Principal, skillId: string) {
  const row = await deps.db
    .select({ id: skills.id, makerspaceId: skills.makerspaceId })
    .from(skills)
    .where(eq(skills.id, skillId))
    .get();
  return visibleOr404(actor, row, "skill_not_found", "Skill not found");
}

/**
 * PUT /skills/{id}/instructors/{user_id}: 201 with an `instructor_added` event when new, 200 and
 * nothing written when the user already instructs the skill. The event is conditional on the
 * assignment not existing yet, in the same batch, so two racing PUTs record one event.
 */
export async function assignInstructor(
  deps: Deps,
  actor: Principal,
  skillId: string,
  userId: string,
): Promise<{ instructor: Instructor; created: boolean }> {
  const skill = await visibleSkill(deps, actor, skillId);
  const event = newEvent(deps, {
    action: "instructor_added",
    makerspaceId: skill.makerspaceId,
    userId,
    skillId,
    performedBy: actor.sub,
  });
  const exists = sql`exists (select 1 from ${skillInstructors} where ${assignment(skillId, userId)})`;
  const results = await runBatch(deps.db, [
    guardedOutboxStatement(deps.db, event, sql`not ${exists}`),
    deps.db
      .insert(skillInstructors)
      .values({
        skillId,
        userId,
        makerspaceId: skill.makerspaceId,
        createdAt: iso(deps.now),
        createdBy: actor.sub,
      })
      .onConflictDoNothing(),
  ]);
  const created = changesOf(results[1]) === 1;
  if (created) publishCommitted(deps, [event]);
  const instructor = await selectInstructors(deps).where(assignment(skillId, userId)).get();
  if (!instructor) throw new AppError("instructor_not_found", "This user is not an instructor of the skill");
  return { instructor, created };
}

/** DELETE /skills/{id}/instructors/{user_id}: 204 with `instructor_removed`; 404 when not assigned. */
export async function removeInstructor(deps: Deps, actor: Principal, skillId: string, userId: string): Promise<void> {
  const skill = await visibleSkill(deps, actor, skillId);
  const event = newEvent(deps, {
    action: "instructor_removed",
    makerspaceId: skill.makerspaceId,
    userId,
    skillId,
    performedBy: actor.sub,
  });
  const exists = sql`exists (select 1 from ${skillInstructors} where ${assignment(skillId, userId)})`;
  const results = await runBatch(deps.db, [
    guardedOutboxStatement(deps.db, event, exists),
    deps.db.delete(skillInstructors).where(assignment(skillId, userId)),
  ]);
  if (changesOf(results[1]) !== 1) {
    throw new AppError("instructor_not_found", "This user is not an instructor of the skill");
  }
  publishCommitted(deps, [event]);
}

/** GET /skills/{id}/instructors: oldest assignment first. */
export async function listSkillInstructors(
  deps: Deps,
  actor: Principal,
  skillId: string,
  page: Paging,
): Promise<Instructor[]> {
  await visibleSkill(deps, actor, skillId);
  return selectInstructors(deps)
    .where(eq(skillInstructors.skillId, skillId))
    .orderBy(asc(skillInstructors.createdAt), asc(skillInstructors.userId))
    .limit(page.limit)
    .offset(page.offset)
    .all();
}

/** GET /instructors: assignments of the caller's makerspace (or the one named), by skill name. */
/** The order of `searchInstructors` (its ORDER BY), for merging shards' pages. */
export const INSTRUCTOR_ORDER = byKeys<Instructor>(
  [(i) => sqliteLower(i.skill_name), "asc"],
  [(i) => i.skill_id, "asc"],
  [(i) => i.user_id, "asc"],
);

export async function searchInstructors(deps: Deps, actor: Principal, q: InstructorSearchQuery): Promise<Instructor[]> {
  const where: SQL[] = [];
  const makerspaceId = scopeMakerspace(actor, q.makerspace_id);
  if (makerspaceId) where.push(eq(skillInstructors.makerspaceId, makerspaceId));
  if (q.user_id !== undefined) where.push(eq(skillInstructors.userId, q.user_id));
  if (q.skill_id !== undefined) where.push(eq(skillInstructors.skillId, q.skill_id));
  return selectInstructors(deps)
    .where(and(...where))
    .orderBy(sql`lower(${skills.name})`, asc(skills.id), asc(skillInstructors.userId))
    .limit(q.limit)
    .offset(q.offset)
    .all();
}

/** GET /instructors/me: the skills of its makerspace the calling member instructs, by name. */
export async function instructedSkills(deps: Deps, actor: Principal, page: Paging): Promise<Skill[]> {
  const rows = await selectSkills(deps)
    .innerJoin(skillInstructors, eq(skillInstructors.skillId, skills.id))
    .where(and(eq(skillInstructors.userId, actor.sub), eq(skillInstructors.makerspaceId, actor.makerspaceId ?? "")))
    .orderBy(sql`lower(${skills.name})`, asc(skills.id))
    .limit(page.limit)
    .offset(page.offset)
    .all();
  return rows.map((row) => toSkill(deps, row));
}
