import { and, asc, eq, ne, type SQL, sql } from "drizzle-orm";
import { allowlistBumps } from "../access/allowlist-versions";
import { forgetEquipmentRequirements } from "../access/requirements-cache";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, outboxStatements, publishCommitted } from "../audit/producer";
import { validityColumns, validityOf } from "../certifications/validity";
import { visibleOr404 } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { changesOf, isUniqueViolation, runBatch, type Statement } from "../platform/db/client";
import { byKeys, sqliteLower } from "../platform/db/fan-out";
import { type SkillRow, skillEquipment, skillPrerequisites, skills } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { newId } from "../platform/ids";
import { iso } from "../platform/time";
import { ALWAYS, assertLinksExist, assertNoCycle, closesNoCycle, linkStatements } from "./skill-links";
import type { Skill, SkillCreate, SkillListQuery, SkillUpdate } from "./skills.schemas";

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

/** The list order of `listSkills` (its ORDER BY), for merging shards' pages. */
export const SKILL_ORDER = byKeys<Skill>(
  [(s) => sqliteLower(s.name), "asc"],
  [(s) => s.name, "asc"],
  [(s) => s.id, "asc"],
);

export async function listSkills(deps: Deps, makerspaceId: string | undefined, q: SkillListQuery): Promise<Skill[]> {
  const where: SQL[] = [];
  if (makerspaceId) where.push(eq(skills.makerspaceId, makerspaceId));
  if (q.category) where.push(eq(skills.category, q.category));
  if (q.level) where.push(eq(skills.level, q.level));
  if (q.status) where.push(eq(skills.status, q.status));
  // A substring test, not LIKE: D1 refuses LIKE patterns over 50 bytes, and `q` may be 100 characters.
  if (q.q) where.push(sql`instr(lower(${skills.name}), ${q.q.toLowerCase()}) > 0`);
  const rows = await selectSkills(deps)
    .where(and(...where))
    .orderBy(sql`lower(${skills.name})`, asc(skills.name), asc(skills.id))
    .limit(q.limit)
    .offset(q.offset)
    .all();
  return rows.map((row) => toSkill(deps, row));
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
  const id = newId("skill", deps);
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
    ...linkStatements(deps, id, input.prerequisite_ids, input.equipment_ids, ALWAYS),
    ...allowlistBumps(deps, { equipmentIds: input.equipment_ids }),
    ...outboxStatements(deps.db, [event]),
  ]).catch(conflictOnRace(deps, input.makerspace_id, input.name));
  publishCommitted(deps, [event]);
  forgetEquipmentRequirements(input.equipment_ids ?? []);
  return getSkill(deps, actor, id);
}

/** How many times an update is re-checked after its batch found a cycle the checks had not seen. */
const MAX_UPDATE_ATTEMPTS = 3;

/**
 * PUT /skills/{id}. The cycle check runs twice: first in JS (for the 422 with its reason), then
 * inside the batch, where every statement is conditional on `closesNoCycle` — two concurrent
 * updates adding A→B and B→A each pass the first check, but D1 runs their batches one after the
 * other and the second finds the first's edge. A batch that applied nothing is checked again.
 */
export async function updateSkill(deps: Deps, actor: Principal, id: string, input: SkillUpdate): Promise<Skill> {
  for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
    const current = await getSkill(deps, actor, id);
    const ms = current.makerspace_id;
    await assertLinksExist(deps, ms, input.prerequisite_ids, input.equipment_ids);
    if (input.name !== undefined) await assertNameFree(deps, ms, input.name, id);
    if (input.prerequisite_ids) await assertNoCycle(deps, ms, id, input.prerequisite_ids);
    const guard = input.prerequisite_ids?.length ? closesNoCycle(id, input.prerequisite_ids) : ALWAYS;

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
    const statements: Statement[] = [
      deps.db
        .update(skills)
        .set(changes)
        .where(and(eq(skills.id, id), guard)),
    ];
    if (input.prerequisite_ids) {
      statements.push(deps.db.delete(skillPrerequisites).where(and(eq(skillPrerequisites.skillId, id), guard)));
    }
    if (input.equipment_ids) {
      // The items losing the link and those gaining it, before the old links go.
      statements.push(...allowlistBumps(deps, { skillIds: [id], equipmentIds: input.equipment_ids }, guard));
      statements.push(deps.db.delete(skillEquipment).where(and(eq(skillEquipment.skillId, id), guard)));
    }
    statements.push(...linkStatements(deps, id, input.prerequisite_ids, input.equipment_ids, guard));
    statements.push(guardedOutboxStatement(deps.db, event, guard));
    const results = await runBatch(deps.db, statements).catch(conflictOnRace(deps, ms, input.name ?? current.name, id));
    if (changesOf(results[0]) === 1) {
      publishCommitted(deps, [event]);
      forgetEquipmentRequirements([...current.equipment_ids, ...(input.equipment_ids ?? [])]);
      return getSkill(deps, actor, id);
    }
  }
  throw new AppError("invalid_state", "The skill's prerequisites kept changing concurrently; try again");
}
