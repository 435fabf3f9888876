import { and, eq, sql } from "drizzle-orm";
import type { Deps } from "../../platform/context";
import { runBatch, valuesOf } from "../../platform/db/client";
import { jsonChunks } from "../../platform/db/json-chunks";
import { type SkillRow, skillPrerequisites, skills, userSkills } from "../../platform/db/schema";
import { certificationFields } from "../row";
import { type ImportSkills, pairKey, type StoredCertification } from "./plan";
import type { ImportRow } from "./rows";

/**
 * The stored data an import's rules read, in three D1 round trips whatever the file's size: the
 * skills the file names (by id or name, in the makerspace), their prerequisites, and the stored
 * certifications of each (user, skill or prerequisite) pair. Every list is bound as JSON
 * (src/platform/db/json-chunks.ts), chunked to stay within D1's statement limits.
 */
export async function loadImportData(
  deps: Deps,
  makerspaceId: string,
  rows: ImportRow[],
): Promise<{ skills: ImportSkills; stored: Map<string, StoredCertification> }> {
  const ids = [...new Set(rows.flatMap((r) => (r.skillId !== undefined ? [r.skillId] : [])))];
  const names = [...new Set(rows.flatMap((r) => (r.skillName !== undefined ? [r.skillName.toLowerCase()] : [])))];
  const queries = [
    ...jsonChunks(ids).map((part) =>
      deps.db
        .select()
        .from(skills)
        .where(and(eq(skills.makerspaceId, makerspaceId), sql`${skills.id} in ${valuesOf(part)}`)),
    ),
    ...jsonChunks(names).map((part) =>
      deps.db
        .select()
        .from(skills)
        .where(and(eq(skills.makerspaceId, makerspaceId), sql`lower(${skills.name}) in ${valuesOf(part)}`)),
    ),
  ];
  const found = ((await runBatch(deps.db, queries)) as SkillRow[][]).flat();
  const byId = new Map(found.map((s) => [s.id, s]));
  const byName = new Map(found.map((s) => [s.name.toLowerCase(), s]));

  const prerequisites = new Map<string, { id: string; name: string }[]>();
  const prerequisiteQueries = jsonChunks([...byId.keys()]).map((part) =>
    deps.db
      .select({ skillId: skillPrerequisites.skillId, id: skills.id, name: skills.name })
      .from(skillPrerequisites)
      .innerJoin(skills, eq(skills.id, skillPrerequisites.prerequisiteId))
      .where(sql`${skillPrerequisites.skillId} in ${valuesOf(part)}`),
  );
  const links = (await runBatch(deps.db, prerequisiteQueries)) as { skillId: string; id: string; name: string }[][];
  for (const link of links.flat()) {
    prerequisites.set(link.skillId, [...(prerequisites.get(link.skillId) ?? []), { id: link.id, name: link.name }]);
  }

  const pairs = new Map<string, [string, string]>();
  for (const row of rows) {
    const skill = row.skillId !== undefined ? byId.get(row.skillId) : byName.get(row.skillName?.toLowerCase() ?? "");
    if (!skill) continue;
    for (const skillId of [skill.id, ...(prerequisites.get(skill.id) ?? []).map((p) => p.id)]) {
      pairs.set(pairKey(row.userId, skillId), [row.userId, skillId]);
    }
  }
  const stored = new Map<string, StoredCertification>();
  const u = userSkills;
  const pairQueries = jsonChunks([...pairs.values()]).map((part) =>
    deps.db
      .select(
        certificationFields("id", "user_id", "skill_id", "status", "certified_at", "expires_at", "notes", "quiz_score"),
      )
      .from(sql`json_each(${JSON.stringify(part)}) p`)
      .innerJoin(u, sql`${u.userId} = json_extract(p.value, '$[0]') and ${u.skillId} = json_extract(p.value, '$[1]')`),
  );
  for (const r of ((await runBatch(deps.db, pairQueries)) as StoredCertification[][]).flat()) {
    stored.set(pairKey(r.user_id, r.skill_id), r);
  }
  return { skills: { byId, byName, prerequisites }, stored };
}
