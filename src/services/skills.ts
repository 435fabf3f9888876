import { and, asc, eq, inArray, ne, type SQL, sql } from "drizzle-orm";
import { newEvent } from "../audit/events";
import { outboxStatements, publishCommitted } from "../audit/producer";
import { visibleOr404 } from "../auth/guards";
import type { Principal } from "../auth/principal";
import { forgetEquipmentRequirements } from "../cache/equipment-requirements";
import type { Deps } from "../context";
import { chunk, isUniqueViolation, runBatch, type Statement } from "../db/client";
import { equipment, type SkillRow, skillEquipment, skillPrerequisites, skills } from "../db/schema";
import { AppError, validationError } from "../lib/errors";
import { newId } from "../lib/ids";
import { iso } from "../lib/time";
import type { Skill, SkillCreate, SkillListQuery, SkillUpdate } from "../schemas/skills";
import { validityColumns, validityOf } from "./validity";

const prerequisiteIdsSql = sql<string>`(select json_group_array(${skillPrerequisites.prerequisiteId}) from ${skillPrerequisites} where ${skillPrerequisites.skillId} = ${skills.id})`;
const equipmentIdsSql = sql<string>`(select json_group_array(${skillEquipment.equipmentId}) from ${skillEquipment} where ${skillEquipment.skillId} = ${skills.id})`;

type SkillWithLinks = SkillRow & { prerequisiteIds: string; equipmentIds: string };

function parseIds(json: string | null): string[] {
  return json ? (JSON.parse(json) as string[]).sort() : [];
}

export function toSkill(deps: Pick<Deps, "config">, row: SkillWithLinks): Skill {
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    level: row.level,
    description: row.description,
    status: row.status,
    makerspace_id: row.makerspaceId,
    prerequisite_ids: parseIds(row.prerequisiteIds),
    equipment_ids: parseIds(row.equipmentIds),
    validity: validityOf(row, deps.config),
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export function selectSkills(deps: Deps) {
  return deps.db
    .select({
      id: skills.id,
      name: skills.name,
      category: skills.category,
      level: skills.level,
      description: skills.description,
      status: skills.status,
      makerspaceId: skills.makerspaceId,
      validityMode: skills.validityMode,
      validityDays: skills.validityDays,
      validityDate: skills.validityDate,
      createdAt: skills.createdAt,
      updatedAt: skills.updatedAt,
      prerequisiteIds: prerequisiteIdsSql,
      equipmentIds: equipmentIdsSql,
    })
    .from(skills);
}

/** One skill with its links, in one query; 404 when missing or in another makerspace. */
export async function getSkill(deps: Deps, actor: Principal, id: string): Promise<Skill> {
  const row = await selectSkills(deps).where(eq(skills.id, id)).get();
  return toSkill(deps, visibleOr404(actor, row, "skill_not_found", "Skill not found"));
}

export async function listSkills(deps: Deps, makerspaceId: string | undefined, q: SkillListQuery): Promise<Skill[]> {
  const where: SQL[] = [];
  if (makerspaceId) where.push(eq(skills.makerspaceId, makerspaceId));
  if (q.category) where.push(eq(skills.category, q.category));
  if (q.level) where.push(eq(skills.level, q.level));
  if (q.status) where.push(eq(skills.status, q.status));
  if (q.q) {
    const pattern = `%${q.q.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    where.push(sql`lower(${skills.name}) like ${pattern} escape '\\'`);
  }
  const rows = await selectSkills(deps)
    .where(and(...where))
    .orderBy(sql`lower(${skills.name})`, asc(skills.name), asc(skills.id))
    .limit(q.limit)
    .offset(q.offset)
    .all();
  return rows.map((row) => toSkill(deps, row));
}

/** Ids among `ids` that are not rows of `table` in this makerspace. */
async function missingIds(
  deps: Deps,
  table: typeof skills | typeof equipment,
  makerspaceId: string,
  ids: string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const found = new Set<string>();
  for (const part of chunk(ids, 90)) {
    const rows = await deps.db
      .select({ id: table.id })
      .from(table)
      .where(and(eq(table.makerspaceId, makerspaceId), inArray(table.id, part)))
      .all();
    for (const r of rows) found.add(r.id);
  }
  return ids.filter((id) => !found.has(id));
}

async function assertLinksExist(
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

async function assertNameFree(deps: Deps, makerspaceId: string, name: string, exceptId?: string): Promise<void> {
  const conditions = [eq(skills.makerspaceId, makerspaceId), sql`lower(${skills.name}) = lower(${name})`];
  if (exceptId) conditions.push(ne(skills.id, exceptId));
  const existing = await deps.db
    .select({ id: skills.id })
    .from(skills)
    .where(and(...conditions))
    .get();
  if (existing) {
    throw new AppError("skill_conflict", "A skill with this name already exists in the makerspace", {
      existing_skill_id: existing.id,
    });
  }
}

/**
 * Would making `skillId` require `prerequisiteIds` close a loop? Walks the makerspace's
 * prerequisite graph (with this skill's edges replaced) from each new prerequisite.
 */
async function assertNoCycle(deps: Deps, makerspaceId: string, skillId: string, prerequisiteIds: string[]) {
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

function linkStatements(deps: Deps, skillId: string, prerequisiteIds?: string[], equipmentIds?: string[]) {
  const out: Statement[] = [];
  if (prerequisiteIds) {
    for (const part of chunk(prerequisiteIds, 40)) {
      out.push(deps.db.insert(skillPrerequisites).values(part.map((p) => ({ skillId, prerequisiteId: p }))));
    }
  }
  if (equipmentIds) {
    for (const part of chunk(equipmentIds, 40)) {
      out.push(deps.db.insert(skillEquipment).values(part.map((e) => ({ skillId, equipmentId: e }))));
    }
  }
  return out;
}

/**
 * A concurrent writer took the name between the check and the batch: the unique index refused
 * it, so look the winner up again to report its id as the contract's `existing_skill_id`.
 */
function conflictOnRace(deps: Deps, makerspaceId: string, name: string, exceptId?: string) {
  return async (err: unknown): Promise<never> => {
    if (!isUniqueViolation(err)) throw err;
    await assertNameFree(deps, makerspaceId, name, exceptId);
    throw new AppError("skill_conflict", "A skill with this name already exists in the makerspace");
  };
}

export async function createSkill(deps: Deps, actor: Principal, input: SkillCreate): Promise<Skill> {
  await assertLinksExist(deps, input.makerspace_id, input.prerequisite_ids, input.equipment_ids);
  await assertNameFree(deps, input.makerspace_id, input.name);
  const id = newId("skill");
  const at = iso(deps.now);
  const event = newEvent(deps, {
    action: "skill_created",
    makerspaceId: input.makerspace_id,
    skillId: id,
    performedBy: actor.sub,
    metadata: {
      name: input.name,
      level: input.level,
      prerequisite_ids: input.prerequisite_ids ?? [],
      equipment_ids: input.equipment_ids ?? [],
      validity: input.validity ?? null,
    },
  });
  await runBatch(deps.db, [
    deps.db.insert(skills).values({
      id,
      name: input.name,
      category: input.category,
      level: input.level,
      description: input.description ?? null,
      status: input.status ?? "active",
      makerspaceId: input.makerspace_id,
      ...validityColumns(input.validity),
      createdAt: at,
      updatedAt: at,
    }),
    ...linkStatements(deps, id, input.prerequisite_ids, input.equipment_ids),
    ...outboxStatements(deps.db, [event]),
  ]).catch(conflictOnRace(deps, input.makerspace_id, input.name));
  publishCommitted(deps, [event]);
  forgetEquipmentRequirements(input.equipment_ids ?? []);
  return getSkill(deps, actor, id);
}

export async function updateSkill(deps: Deps, actor: Principal, id: string, input: SkillUpdate): Promise<Skill> {
  const current = await getSkill(deps, actor, id);
  const ms = current.makerspace_id;
  await assertLinksExist(deps, ms, input.prerequisite_ids, input.equipment_ids);
  if (input.name !== undefined) await assertNameFree(deps, ms, input.name, id);
  if (input.prerequisite_ids) await assertNoCycle(deps, ms, id, input.prerequisite_ids);

  const changes: Partial<typeof skills.$inferInsert> = { updatedAt: iso(deps.now) };
  if (input.name !== undefined) changes.name = input.name;
  if (input.category !== undefined) changes.category = input.category;
  if (input.level !== undefined) changes.level = input.level;
  if (input.description !== undefined) changes.description = input.description;
  if (input.status !== undefined) changes.status = input.status;
  if (input.validity !== undefined) Object.assign(changes, validityColumns(input.validity));

  const changed = Object.keys(input).filter((k) => input[k as keyof SkillUpdate] !== undefined);
  const event = newEvent(deps, {
    action: "skill_updated",
    makerspaceId: ms,
    skillId: id,
    performedBy: actor.sub,
    metadata: {
      changed_fields: changed,
      ...(input.validity !== undefined ? { validity: input.validity } : {}),
    },
  });
  const statements: Statement[] = [deps.db.update(skills).set(changes).where(eq(skills.id, id))];
  if (input.prerequisite_ids)
    statements.push(deps.db.delete(skillPrerequisites).where(eq(skillPrerequisites.skillId, id)));
  if (input.equipment_ids) statements.push(deps.db.delete(skillEquipment).where(eq(skillEquipment.skillId, id)));
  statements.push(...linkStatements(deps, id, input.prerequisite_ids, input.equipment_ids));
  statements.push(...outboxStatements(deps.db, [event]));
  await runBatch(deps.db, statements).catch(conflictOnRace(deps, ms, input.name ?? current.name, id));
  publishCommitted(deps, [event]);
  forgetEquipmentRequirements([...current.equipment_ids, ...(input.equipment_ids ?? [])]);
  return getSkill(deps, actor, id);
}
