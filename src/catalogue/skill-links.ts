import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Deps } from "../platform/context";
import { type Statement, valuesOf } from "../platform/db/client";
import { equipment, skillEquipment, skillPrerequisites, skills } from "../platform/db/schema";
import { AppError, validationError } from "../platform/errors";

/** Ids among `ids` that are not rows of `table` in this makerspace. */
async function missingIds(
  deps: Deps,
  table: typeof skills | typeof equipment,
  makerspaceId: string,
  ids: string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await deps.db
    .select({ id: table.id })
    .from(table)
    .where(and(eq(table.makerspaceId, makerspaceId), sql`${table.id} in ${valuesOf(ids)}`))
    .all();
  const found = new Set(rows.map((r) => r.id));
  return ids.filter((id) => !found.has(id));
}

export async function assertLinksExist(
  deps: Deps,
  makerspaceId: string,
  prerequisiteIds: string[] | undefined,
  equipmentIds: string[] | undefined,
): Promise<void> {
  const errors = [];
  const missingSkills = await missingIds(deps, skills, makerspaceId, prerequisiteIds ?? []);
  if (missingSkills.length > 0) {
    errors.push({ path: "prerequisite_ids", message: `unknown skill ids: ${missingSkills.join(", ")}` });
  }
  const missingEquipment = await missingIds(deps, equipment, makerspaceId, equipmentIds ?? []);
  if (missingEquipment.length > 0) {
    errors.push({ path: "equipment_ids", message: `unknown equipment ids: ${missingEquipment.join(", ")}` });
  }
  if (errors.length > 0) throw validationError(errors, "Linked ids must exist in the same makerspace");
}

/**
 * Would making `skillId` require `prerequisiteIds` close a loop? Walks the makerspace's
 * prerequisite graph (with this skill's edges replaced) from each new prerequisite.
 */
export async function assertNoCycle(deps: Deps, makerspaceId: string, skillId: string, prerequisiteIds: string[]) {
  if (prerequisiteIds.includes(skillId)) {
    throw new AppError("prerequisite_cycle", "A skill cannot be its own prerequisite");
  }
  const edges = await deps.db
    .select({ from: skillPrerequisites.skillId, to: skillPrerequisites.prerequisiteId })
    .from(skillPrerequisites)
    .innerJoin(skills, eq(skills.id, skillPrerequisites.skillId))
    .where(eq(skills.makerspaceId, makerspaceId))
    .all();
  const graph = new Map<string, string[]>();
  for (const e of edges) {
    if (e.from === skillId) continue;
    graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  }
  graph.set(skillId, prerequisiteIds);
  const seen = new Set<string>();
  const stack = [...prerequisiteIds];
  while (stack.length > 0) {
    const node = stack.pop() as string;
    if (node === skillId) {
      throw new AppError("prerequisite_cycle", "These prerequisites would form a cycle");
    }
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(graph.get(node) ?? []));
  }
}

/** A guard that always holds. */
export const ALWAYS = sql`1`;

/**
 * True while no chain of prerequisites leads from any of `prerequisiteIds` back to `skillId`, so
 * making them its prerequisites closes no loop. The walk never follows `skillId`'s own edges, so
 * its answer is the same at every statement of a batch that only rewrites those edges: the
 * statements of one update all apply, or none does.
 */
export function closesNoCycle(skillId: string, prerequisiteIds: string[]): SQL {
  return sql`not exists (
    with recursive reach(id) as (
      select value from json_each(${JSON.stringify(prerequisiteIds)})
      union
      select p.prerequisite_id from ${skillPrerequisites} p join reach r on p.skill_id = r.id
      where p.skill_id != ${skillId}
    )
    select 1 from reach where id = ${skillId})`;
}

/** Inserts the links, each list bound as one parameter, only while `guard` holds. */
export function linkStatements(
  deps: Deps,
  skillId: string,
  prerequisiteIds: string[] | undefined,
  equipmentIds: string[] | undefined,
  guard: SQL,
): Statement[] {
  const out: Statement[] = [];
  if (prerequisiteIds && prerequisiteIds.length > 0) {
    out.push(
      deps.db
        .insert(skillPrerequisites)
        .select(sql`select ${skillId}, value from ${valuesOf(prerequisiteIds)} where ${guard}`),
    );
  }
  if (equipmentIds && equipmentIds.length > 0) {
    out.push(
      deps.db
        .insert(skillEquipment)
        .select(sql`select ${skillId}, value from ${valuesOf(equipmentIds)} where ${guard}`),
    );
  }
  return out;
}
