import { eq, getTableColumns, sql } from "drizzle-orm";
import { inMakerspace } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { type SkillRow, skills } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { iso, isUnexpired } from "../platform/time";

/** The user's row for the skill, if any (one per user and skill). */
export interface ExistingCertification {
  id: string;
  status: "pending" | "certified" | "expired" | "revoked";
  expires_at: string | null;
}

/** Everything a grant, an approval or a request checks before writing, read in one query. */
export interface CertificationState {
  skill: SkillRow;
  /** Names of the prerequisites the user does not hold certified and unexpired, by name. */
  missingPrerequisites: string[];
  existing: ExistingCertification | null;
  /** The user's pending request for the skill, if any. */
  pendingRequestId: string | null;
  /** The user holds the skill certified and unexpired now. */
  held: boolean;
}

/**
 * The skill a grant or request names, with the user's standing on it, in ONE round trip: the
 * skill must be the caller's makerspace's (else 404, its existence not leaked), then pass `mayAct`
 * (a 403 comes before any state is revealed; an instructor check may read D1), and be `active`
 * (else 409 `invalid_state`). What the write then depends on is checked again inside its batch
 * (`planGrant`), so this read only has to be right for the answer, not for the rules.
 */
export async function certificationState(
  deps: Deps,
  actor: Principal,
  skillId: string,
  userId: string,
  mayAct?: (skill: SkillRow) => Promise<void>,
): Promise<CertificationState> {
  const nowIso = iso(deps.now);
  // The ids are bound, never `${skills.id}`: Drizzle writes a column of a one-table select
  // unqualified, and inside these subqueries `"id"` would name the subquery's own table.
  const row = await deps.db
    .select({
      ...getTableColumns(skills),
      missing: sql<string>`(select json_group_array(name) from (select s.name as name from skill_prerequisites p
        join skills s on s.id = p.prerequisite_id
        where p.skill_id = ${skillId} and not exists (select 1 from user_skills u where u.user_id = ${userId}
          and u.skill_id = p.prerequisite_id and u.status = 'certified'
          and (u.expires_at is null or u.expires_at > ${nowIso}))
        order by s.name))`,
      existing: sql<string | null>`(select json_object('id', u.id, 'status', u.status, 'expires_at', u.expires_at)
        from user_skills u where u.user_id = ${userId} and u.skill_id = ${skillId})`,
      pendingRequestId: sql<string | null>`(select r.id from skill_requests r where r.user_id = ${userId}
        and r.skill_id = ${skillId} and r.status = 'pending')`,
    })
    .from(skills)
    .where(eq(skills.id, skillId))
    .get();
  if (!row || !inMakerspace(actor, row.makerspaceId)) throw new AppError("skill_not_found", "Skill not found");
  const { missing, existing: existingJson, pendingRequestId, ...skill } = row;
  await mayAct?.(skill);
  if (skill.status !== "active") throw new AppError("invalid_state", `Skill is ${skill.status}, not active`);
  const existing = existingJson ? (JSON.parse(existingJson) as ExistingCertification) : null;
  return {
    skill,
    missingPrerequisites: JSON.parse(missing) as string[],
    existing,
    pendingRequestId,
    held: existing?.status === "certified" && isUnexpired(existing.expires_at, nowIso),
  };
}

export function prerequisitesNotMet(missing: string[]): AppError {
  return new AppError("prerequisites_not_met", `Prerequisites not met: ${missing.join(", ")}`, {
    missing_prerequisites: missing,
  });
}
