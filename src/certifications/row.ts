import { skills, type UserSkillRow, userSkills } from "../platform/db/schema";
import type { UserSkill } from "./certifications.schemas";
import { effectiveStatus, effectiveStatusSql } from "./rules";

/**
 * A certification (table `user_skills`; the API calls one a "user skill") has ONE row shape in
 * this code: {@link CertificationRow}, its stored columns under the names the API gives them.
 * Every read of certifications selects a part of it (`certificationFields`), and what the API
 * returns (`UserSkill`) is made from it by one mapper, {@link toUserSkill}, written again as the
 * selection {@link userSkillColumns} for queries (the two are held together by
 * test/certifications/rules.test.ts).
 */
const STORED = {
  id: userSkills.id,
  user_id: userSkills.userId,
  skill_id: userSkills.skillId,
  makerspace_id: userSkills.makerspaceId,
  status: userSkills.status,
  certified_at: userSkills.certifiedAt,
  expires_at: userSkills.expiresAt,
  certified_by: userSkills.certifiedBy,
  notes: userSkills.notes,
  quiz_score: userSkills.quizScore,
  last_use_renewal_at: userSkills.lastUseRenewalAt,
  created_at: userSkills.createdAt,
  updated_at: userSkills.updatedAt,
} as const;

export type CertificationField = keyof typeof STORED;

/** A stored certification: the status as stored (see `effectiveStatus` for what the API shows). */
export interface CertificationRow {
  id: UserSkillRow["id"];
  user_id: UserSkillRow["userId"];
  skill_id: UserSkillRow["skillId"];
  makerspace_id: UserSkillRow["makerspaceId"];
  status: UserSkillRow["status"];
  certified_at: UserSkillRow["certifiedAt"];
  expires_at: UserSkillRow["expiresAt"];
  certified_by: UserSkillRow["certifiedBy"];
  notes: UserSkillRow["notes"];
  quiz_score: UserSkillRow["quizScore"];
  last_use_renewal_at: UserSkillRow["lastUseRenewalAt"];
  created_at: UserSkillRow["createdAt"];
  updated_at: UserSkillRow["updatedAt"];
}

/** The selection of some fields of {@link CertificationRow}, for `db.select(…)`. */
export function certificationFields<K extends CertificationField>(...keys: K[]): Pick<typeof STORED, K> {
  return Object.fromEntries(keys.map((k) => [k, STORED[k]])) as Pick<typeof STORED, K>;
}

/** The mapper: a stored certification and its skill's name, as the API returns it at `nowIso`. */
export function toUserSkill(row: CertificationRow, skillName: string, nowIso: string): UserSkill {
  return {
    id: row.id,
    user_id: row.user_id,
    skill_id: row.skill_id,
    skill_name: skillName,
    makerspace_id: row.makerspace_id,
    status: effectiveStatus(row, nowIso),
    certified_at: row.certified_at,
    expires_at: row.expires_at,
    certified_by: row.certified_by,
    notes: row.notes,
    quiz_score: row.quiz_score,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** {@link toUserSkill} as a selection over `user_skills` joined to `skills`. */
export function userSkillColumns(nowIso: string) {
  return {
    id: STORED.id,
    user_id: STORED.user_id,
    skill_id: STORED.skill_id,
    skill_name: skills.name,
    makerspace_id: STORED.makerspace_id,
    status: effectiveStatusSql(nowIso),
    certified_at: STORED.certified_at,
    expires_at: STORED.expires_at,
    certified_by: STORED.certified_by,
    notes: STORED.notes,
    quiz_score: STORED.quiz_score,
    created_at: STORED.created_at,
    updated_at: STORED.updated_at,
  };
}
