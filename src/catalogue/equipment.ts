import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import { allowlistBumps } from "../access/allowlist-versions";
import { forgetEquipmentRequirements } from "../access/requirements-cache";
import { newEvent } from "../audit/events";
import { outboxStatements, publishCommitted } from "../audit/producer";
import { assertDeviceMayUse, deviceEquipmentScope, visibleOr404 } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { isUniqueViolation, runBatch, valuesOf } from "../platform/db/client";
import { claimEquipmentId } from "../platform/db/directory";
import { byKeys, sqliteLower } from "../platform/db/fan-out";
import { type EquipmentRow, equipment, skillEquipment } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { newId } from "../platform/ids";
import { iso } from "../platform/time";
import type { Equipment, EquipmentCreate, EquipmentListQuery, EquipmentUpdate } from "./equipment.schemas";

const requiredSkillIdsSql = sql<string>`(select json_group_array(${skillEquipment.skillId}) from ${skillEquipment} where ${skillEquipment.equipmentId} = ${equipment.id})`;

type EquipmentWithLinks = Omit<EquipmentRow, "allowlistVersion"> & { requiredSkillIds: string };

function toEquipment(row: EquipmentWithLinks): Equipment {
  return {
    id: row.id,
    name: row.name,
    makerspace_id: row.makerspaceId,
    category: row.category,
    location: row.location,
    status: row.status,
    required_skill_ids: row.requiredSkillIds ? (JSON.parse(row.requiredSkillIds) as string[]).sort() : [],
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function selectEquipment(deps: Deps) {
  return deps.db
    .select({
      id: equipment.id,
      name: equipment.name,
      makerspaceId: equipment.makerspaceId,
      category: equipment.category,
      location: equipment.location,
      status: equipment.status,
      createdAt: equipment.createdAt,
      updatedAt: equipment.updatedAt,
      requiredSkillIds: requiredSkillIdsSql,
    })
    .from(equipment);
}

export async function getEquipment(deps: Deps, actor: Principal, id: string): Promise<Equipment> {
  assertDeviceMayUse(actor, id);
  const row = await selectEquipment(deps).where(eq(equipment.id, id)).get();
  return toEquipment(visibleOr404(actor, row, "equipment_not_found", "Equipment not found"));
}

/** The list order of `listEquipment` (its ORDER BY), for merging shards' pages. */
export const EQUIPMENT_ORDER = byKeys<Equipment>(
  [(e) => sqliteLower(e.name), "asc"],
  [(e) => e.name, "asc"],
  [(e) => e.id, "asc"],
);

/** The makerspace's equipment; a device registered for some items lists only those. */
export async function listEquipment(
  deps: Deps,
  actor: Principal,
  makerspaceId: string | undefined,
  q: EquipmentListQuery,
): Promise<Equipment[]> {
  const where: SQL[] = [];
  const only = deviceEquipmentScope(actor);
  // One bound parameter for the whole list (D1 allows at most 100 per statement).
  if (only) where.push(sql`${equipment.id} in ${valuesOf([...only])}`);
  if (makerspaceId) where.push(eq(equipment.makerspaceId, makerspaceId));
  if (q.status) where.push(eq(equipment.status, q.status));
  const rows = await selectEquipment(deps)
    .where(and(...where))
    .orderBy(sql`lower(${equipment.name})`, asc(equipment.name), asc(equipment.id))
    .limit(q.limit)
    .offset(q.offset)
    .all();
  return rows.map(toEquipment);
}

function conflict(): AppError {
  return new AppError("equipment_conflict", "Equipment id is already registered");
}

/**
 * POST /equipment. Ids are unique across the service, whichever makerspace (and shard) holds
 * them: the id is first claimed in the directory's equipment index (409 when another makerspace
 * holds it), then the row is written on the makerspace's shard, whose primary key settles a race
 * within the makerspace (409 too).
 */
export async function createEquipment(deps: Deps, actor: Principal, input: EquipmentCreate): Promise<Equipment> {
  const id = input.id ?? newId("eq", deps);
  if (!(await claimEquipmentId(deps.env, id, input.makerspace_id, deps.now))) throw conflict();
  const at = iso(deps.now);
  const event = newEvent(deps, {
    action: "equipment_created",
    makerspaceId: input.makerspace_id,
    performedBy: actor.sub,
    metadata: { equipment_id: id, name: input.name, status: input.status ?? "available" },
  });
  await runBatch(deps.db, [
    deps.db.insert(equipment).values({
      id,
      name: input.name,
      makerspaceId: input.makerspace_id,
      category: input.category ?? null,
      location: input.location ?? null,
      status: input.status ?? "available",
      createdAt: at,
      updatedAt: at,
    }),
    ...outboxStatements(deps.db, [event]),
  ]).catch((err: unknown) => {
    throw isUniqueViolation(err) ? conflict() : err;
  });
  publishCommitted(deps, [event]);
  forgetEquipmentRequirements([id]);
  return getEquipment(deps, actor, id);
}

export async function updateEquipment(
  deps: Deps,
  actor: Principal,
  id: string,
  input: EquipmentUpdate,
): Promise<Equipment> {
  const current = await getEquipment(deps, actor, id);
  const changes: Partial<typeof equipment.$inferInsert> = { updatedAt: iso(deps.now) };
  if (input.name !== undefined) changes.name = input.name;
  if (input.category !== undefined) changes.category = input.category;
  if (input.location !== undefined) changes.location = input.location;
  if (input.status !== undefined) changes.status = input.status;
  const event = newEvent(deps, {
    action: "equipment_updated",
    makerspaceId: current.makerspace_id,
    performedBy: actor.sub,
    metadata: {
      equipment_id: id,
      changed_fields: Object.keys(changes).filter((k) => k !== "updatedAt"),
      ...(input.status !== undefined ? { status_from: current.status, status_to: input.status } : {}),
    },
  });
  await runBatch(deps.db, [
    deps.db.update(equipment).set(changes).where(eq(equipment.id, id)),
    ...(input.status !== undefined ? allowlistBumps(deps, { equipmentIds: [id] }) : []),
    ...outboxStatements(deps.db, [event]),
  ]);
  publishCommitted(deps, [event]);
  forgetEquipmentRequirements([id]);
  return getEquipment(deps, actor, id);
}
