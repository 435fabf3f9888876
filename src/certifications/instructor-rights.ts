import { and, eq, sql } from "drizzle-orm";
import { inMakerspace, readerScope } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { skillInstructors } from "../platform/db/schema";
import { AppError, type ErrorType } from "../platform/errors";

/**
 * What an instructor — a `member` assigned to a skill — may do beyond a member: for that skill
 * only, in its own makerspace, grant, renew and revoke certifications, review requests, and read
 * every member's certifications and requests of it. The assignment is read on every call, so a
 * removed instructor is refused on its next call; no token claim is involved.
 */

/** Is the caller a member assigned to this skill of its own makerspace? */
export async function instructs(deps: Deps, actor: Principal, skillId: string): Promise<boolean> {
  if (actor.role !== "member" || actor.makerspaceId === null) return false;
  const row = await deps.db
    .select({ one: sql<number>`1` })
    .from(skillInstructors)
    .where(
      and(
        eq(skillInstructors.skillId, skillId),
        eq(skillInstructors.userId, actor.sub),
        eq(skillInstructors.makerspaceId, actor.makerspaceId),
      ),
    )
    .get();
  return row !== undefined;
}

/** Does the caller instruct any skill of its makerspace? (Checked before a route's validation.) */
export async function instructsAny(deps: Deps, actor: Principal): Promise<boolean> {
  if (actor.role !== "member" || actor.makerspaceId === null) return false;
  const row = await deps.db
    .select({ one: sql<number>`1` })
    .from(skillInstructors)
    .where(and(eq(skillInstructors.makerspaceId, actor.makerspaceId), eq(skillInstructors.userId, actor.sub)))
    .get();
  return row !== undefined;
}

/**
 * Grant, renew, revoke or review for `userId` in `skillId`: admins always (their makerspace is
 * checked against the row by the caller); anyone else only as an instructor of the skill, and
 * never for itself. The skill's visibility (404 for another makerspace's) is checked first by
 * the caller, so this answers only 403.
 */
export async function assertMayCertify(deps: Deps, actor: Principal, skillId: string, userId: string): Promise<void> {
  if (actor.role === "super_admin" || actor.role === "makerspace_admin") return;
  if (!(await instructs(deps, actor, skillId))) {
    throw new AppError("forbidden", "Only an admin or an instructor of this skill may do this");
  }
  if (userId === actor.sub) throw new AppError("forbidden", "Instructors may not certify themselves");
}

/**
 * Whose certifications or requests a list reads. A member: its own — or, filtering by a skill
 * it instructs, every member's rows of that skill (`user_id` then narrows as given). A member
 * naming another user otherwise is 403. Others as `readerScope` says.
 */
export async function listScope(
  deps: Deps,
  actor: Principal,
  q: { user_id?: string; skill_id?: string; makerspace_id?: string },
): Promise<{ userId: string | undefined; makerspaceId: string | undefined }> {
  const scope = readerScope(actor, q);
  if (actor.role !== "member") return scope;
  if (q.skill_id !== undefined && (await instructs(deps, actor, q.skill_id))) return { ...scope, userId: q.user_id };
  if (q.user_id !== undefined && q.user_id !== actor.sub) {
    throw new AppError("forbidden", "Members may only act for themselves");
  }
  return scope;
}

/**
 * One certification or request by id: another makerspace's is 404; a member may read its own,
 * and another member's only as an instructor of the row's skill (else 403).
 */
export async function assertRowReadable(
  deps: Deps,
  actor: Principal,
  row: { userId: string; skillId: string; makerspaceId: string } | undefined,
  type: ErrorType,
  detail: string,
): Promise<void> {
  if (!row || !inMakerspace(actor, row.makerspaceId)) throw new AppError(type, detail);
  if (actor.role === "member" && row.userId !== actor.sub && !(await instructs(deps, actor, row.skillId))) {
    throw new AppError("forbidden", "Members may only read their own records");
  }
}
