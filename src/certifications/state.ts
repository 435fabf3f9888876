import { eq, getTableColumns, sql } from "drizzle-orm";
import { inMakerspace } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { type SkillRow, skillPrerequisites, skillRequests, skills, userSkills } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { iso } from "../platform/time";
import type { CertificationRow } from "./row";
import { inForceSql, isInForce } from "./rules";

/** The user's row for the skill, if any (one per user and skill). */
export type ExistingCertification = Pick<CertificationRow, "id" | "status" | "expires_at">;

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
  const p = skillPrerequisites;
  const u = userSkills;
  const r = skillRequests;
  // Each subquery is an `sql` of its own, and the ids are bound: Drizzle writes a column standing
  // at the top of a one-table select's field unqualified, which inside a subquery would name the
  // subquery's own table (a nested fragment keeps its columns qualified).
  const missingSql = sql`select ${skills.name} as name from ${p} join ${skills} on ${skills.id} = ${p.prerequisiteId}
    where ${p.skillId} = ${skillId} and not exists (select 1 from ${u} where ${u.userId} = ${userId}
      and ${u.skillId} = ${p.prerequisiteId} and ${inForceSql(nowIso)})
    order by ${skills.name}`;
  const existingSql = sql`select json_object('id', ${u.id}, 'status', ${u.status}, 'expires_at', ${u.expiresAt})
    from ${u} where ${u.userId} = ${userId} and ${u.skillId} = ${skillId}`;
  const pendingSql = sql`select ${r.id} from ${r} where ${r.userId} = ${userId}
    and ${r.skillId} = ${skillId} and ${r.status} = 'pending'`;
  const row = await deps.db
    .select({
      ...getTableColumns(skills),
      missing: sql<string>`(select json_group_array(name) from (${missingSql}))`,
      existing: sql<string | null>`(${existingSql})`,
      pendingRequestId: sql<string | null>`(${pendingSql})`,
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
    held: existing !== null && isInForce(existing, nowIso),
  };
}

export function prerequisitesNotMet(missing: string[]): AppError {
  return new AppError("prerequisites_not_met", `Prerequisites not met: ${missing.join(", ")}`, {
    missing_prerequisites: missing,
  });
}
