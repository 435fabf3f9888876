import { and, asc, desc, eq, gt, lt, or } from "drizzle-orm";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { csvLine } from "../platform/csv";
import { userSkills } from "../platform/db/schema";
import { streamFrom } from "../platform/stream";
import type { UserSkill } from "./certifications.schemas";
import { selectUserSkills, type UserSkillFilter, userSkillConditions } from "./store";

/** The export's columns: a certification as the API returns it, field for field. */
export const EXPORT_COLUMNS = [
  "id",
  "user_id",
  "skill_id",
  "skill_name",
  "makerspace_id",
  "status",
  "certified_at",
  "expires_at",
  "certified_by",
  "notes",
  "quiz_score",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof UserSkill)[];

/** Rows per D1 query: one page is all the export holds in memory. */
export const EXPORT_PAGE_ROWS = 500;

/**
 * GET /skills/user-skills/export: every certification the list would return for these filters,
 * as CSV, in the list's order. Pages are read by keyset (the last row's sort key), so each query
 * is an indexed range read however far in, and rows are read only as fast as the client takes
 * them. The scope is checked (403) before anything is streamed.
 */
export async function exportUserSkills(
  deps: Deps,
  actor: Principal,
  q: UserSkillFilter,
): Promise<ReadableStream<Uint8Array>> {
  const conditions = await userSkillConditions(deps, actor, q);
  const expiring = q.expiring_within_days !== undefined;
  async function* lines(): AsyncGenerator<string> {
    let after: UserSkill | undefined;
    let header = csvLine(EXPORT_COLUMNS);
    for (;;) {
      const rows = await selectUserSkills(deps)
        .where(and(...conditions, after ? keyset(after, expiring) : undefined))
        .orderBy(
          ...(expiring
            ? [asc(userSkills.expiresAt), asc(userSkills.id)]
            : [desc(userSkills.createdAt), desc(userSkills.id)]),
        )
        .limit(EXPORT_PAGE_ROWS)
        .all();
      yield header + rows.map((r) => csvLine(EXPORT_COLUMNS.map((c) => r[c]))).join("");
      header = "";
      if (rows.length < EXPORT_PAGE_ROWS) return;
      after = rows[rows.length - 1];
    }
  }
  return streamFrom(lines(), deps.logger, "user-skills export");
}

/** Rows after `last` in the export's order. */
function keyset(last: UserSkill, expiring: boolean) {
  if (expiring) {
    const at = last.expires_at as string;
    return or(gt(userSkills.expiresAt, at), and(eq(userSkills.expiresAt, at), gt(userSkills.id, last.id)));
  }
  return or(
    lt(userSkills.createdAt, last.created_at),
    and(eq(userSkills.createdAt, last.created_at), lt(userSkills.id, last.id)),
  );
}
