import { and, asc, eq, gt, inArray, ne, type SQL, sql } from "drizzle-orm";
import { instructsAny } from "../certifications/instructor-rights";
import { scopeMakerspace } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { valuesOf } from "../platform/db/client";
import { compareText } from "../platform/db/fan-out";
import { skillInstructors, skillRequests, skills, userSkills } from "../platform/db/schema";
import { AppError, validationError } from "../platform/errors";
import { EXPIRING_WITHIN_DAYS, type Matrix, type MatrixCell, type MatrixQuery } from "./matrix.schemas";

const DAY_MS = 86_400_000;

/** The makerspace a console read is about; a super_admin must name one. */
export function consoleMakerspace(actor: Principal, requested: string | undefined): string {
  const ms = scopeMakerspace(actor, requested);
  if (!ms) throw validationError([{ path: "makerspace_id", message: "is required for a super_admin" }]);
  return ms;
}

/**
 * The state of one cell at `now`: a certification in force wins (`certified`, or `expiring`
 * within 30 days); else a pending request (`requested`); else what is left of the certification
 * (`expired`, `revoked`; a `pending` certification reads as `requested`).
 */
export function cellState(
  cert: { status: string; expiresAt: string | null } | undefined,
  requested: boolean,
  now: Date,
): MatrixCell["state"] | "none" {
  if (cert?.status === "certified") {
    if (cert.expiresAt === null) return "certified";
    const left = Date.parse(cert.expiresAt) - now.getTime();
    if (left > EXPIRING_WITHIN_DAYS * DAY_MS) return "certified";
    if (left > 0) return "expiring";
  }
  if (requested || cert?.status === "pending") return "requested";
  if (cert?.status === "certified" || cert?.status === "expired") return "expired";
  if (cert?.status === "revoked") return "revoked";
  return "none";
}

/**
 * GET /skills/matrix: a page of members × the makerspace's skills. Four reads: the columns, the
 * page of members (user ids with a certification or a request of a column, in id order, from the
 * (makerspace, user) indexes), then that page's certifications and pending requests in one batch.
 * An instructor sees the columns of the skills it instructs (every member's rows of them).
 */
export async function readMatrix(deps: Deps, actor: Principal, q: MatrixQuery): Promise<Matrix> {
  const makerspaceId = consoleMakerspace(actor, q.makerspace_id);
  const instructor = actor.role === "member";
  if (instructor && !(await instructsAny(deps, actor))) {
    throw new AppError("forbidden", "Only admins and instructors may read the training matrix");
  }
  const skillConditions: SQL[] = [eq(skills.makerspaceId, makerspaceId), ne(skills.status, "archived")];
  if (q.category !== undefined) skillConditions.push(eq(skills.category, q.category));
  if (q.skill_id !== undefined) skillConditions.push(eq(skills.id, q.skill_id));
  if (instructor) {
    skillConditions.push(
      inArray(
        skills.id,
        deps.db
          .select({ id: skillInstructors.skillId })
          .from(skillInstructors)
          .where(and(eq(skillInstructors.makerspaceId, makerspaceId), eq(skillInstructors.userId, actor.sub))),
      ),
    );
  }
  const columns = await deps.db
    .select({
      id: skills.id,
      name: skills.name,
      category: skills.category,
      level: skills.level,
      status: skills.status,
    })
    .from(skills)
    .where(and(...skillConditions))
    .orderBy(asc(skills.category), sql`lower(${skills.name})`, asc(skills.id))
    .all();
  const generatedAt = deps.now.toISOString();
  const empty = {
    makerspace_id: makerspaceId,
    generated_at: generatedAt,
    skills: columns,
    rows: [],
    next_cursor: null,
  };
  if (columns.length === 0) return empty;

  const skillIds = columns.map((s) => s.id);
  const after = q.cursor;
  const take = q.limit + 1;
  const usersOf = (table: typeof userSkills | typeof skillRequests) => {
    const where: SQL[] = [eq(table.makerspaceId, makerspaceId), sql`${table.skillId} in ${valuesOf(skillIds)}`];
    if (after !== undefined) where.push(gt(table.userId, after));
    if (q.q !== undefined) where.push(sql`instr(lower(${table.userId}), lower(${q.q})) > 0`);
    return deps.db
      .selectDistinct({ userId: table.userId })
      .from(table)
      .where(and(...where))
      .orderBy(asc(table.userId))
      .limit(take);
  };
  const [certUsers, requestUsers] = await deps.db.batch([usersOf(userSkills), usersOf(skillRequests)]);
  // The first `take` of the union are within the first `take` of each side; compareText orders
  // as SQLite does (by code point).
  const ids = [...new Set([...certUsers, ...requestUsers].map((r) => r.userId))].sort(compareText).slice(0, take);
  const more = ids.length > q.limit;
  const page = more ? ids.slice(0, q.limit) : ids;
  if (page.length === 0) return empty;

  const [certs, requests] = await deps.db.batch([
    deps.db
      .select({
        id: userSkills.id,
        userId: userSkills.userId,
        skillId: userSkills.skillId,
        status: userSkills.status,
        expiresAt: userSkills.expiresAt,
      })
      .from(userSkills)
      .where(
        and(
          eq(userSkills.makerspaceId, makerspaceId),
          sql`${userSkills.userId} in ${valuesOf(page)}`,
          sql`${userSkills.skillId} in ${valuesOf(skillIds)}`,
        ),
      ),
    deps.db
      .select({ id: skillRequests.id, userId: skillRequests.userId, skillId: skillRequests.skillId })
      .from(skillRequests)
      .where(
        and(
          eq(skillRequests.makerspaceId, makerspaceId),
          eq(skillRequests.status, "pending"),
          sql`${skillRequests.userId} in ${valuesOf(page)}`,
          sql`${skillRequests.skillId} in ${valuesOf(skillIds)}`,
        ),
      ),
  ]);
  const key = (userId: string, skillId: string) => `${userId}\u0000${skillId}`;
  const certOf = new Map(certs.map((c) => [key(c.userId, c.skillId), c]));
  const requestOf = new Map(requests.map((r) => [key(r.userId, r.skillId), r.id]));
  const rows = page.map((userId) => {
    const cells: Record<string, MatrixCell> = {};
    for (const skillId of skillIds) {
      const cert = certOf.get(key(userId, skillId));
      const requestId = requestOf.get(key(userId, skillId)) ?? null;
      const state = cellState(cert, requestId !== null, deps.now);
      if (state === "none") continue;
      cells[skillId] = {
        state,
        user_skill_id: cert?.id ?? null,
        request_id: requestId,
        expires_at: cert?.expiresAt ?? null,
      };
    }
    return { user_id: userId, display_name: null, cells };
  });
  const last = page.at(-1);
  return { ...empty, rows, next_cursor: more && last !== undefined ? last : null };
}
