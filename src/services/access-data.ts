import { and, asc, eq, ne, sql } from "drizzle-orm";
import type { HeldCertification } from "../access/decide";
import { cachedRequirements, type EquipmentRequirements, rememberRequirements } from "../cache/equipment-requirements";
import { type CachedCertification, readCachedCertifications, writeCachedCertifications } from "../cache/user-skills";
import type { Deps } from "../context";
import type { Db } from "../db/client";
import { equipment, skillEquipment, skills, userSkills } from "../db/schema";
import type { EquipmentStatus } from "../schemas/equipment";
import type { SkillLevel } from "../schemas/skills";

/**
 * Data loading for the access checks, shaped by the round-trip budget of issue 4:
 * - strong: requirements and certifications in ONE `db.batch` (never stale);
 * - cached: requirements from the per-isolate cache, certifications from KV; whatever missed is
 *   read in one D1 batch (so 0 round trips warm, 1 cold).
 */
export type Consistency = "cached" | "strong";

/**
 * Every column carries a distinct alias: D1 batch results come back as objects keyed by column
 * name, so `equipment.id` and `skills.id` would otherwise collide.
 */
export function requirementsQuery(db: Db) {
  return db
    .select({
      id: sql<string>`${equipment.id}`.as("eq_id"),
      name: sql<string>`${equipment.name}`.as("eq_name"),
      makerspaceId: sql<string>`${equipment.makerspaceId}`.as("eq_makerspace_id"),
      status: sql<EquipmentStatus>`${equipment.status}`.as("eq_status"),
      skillId: sql<string | null>`${skills.id}`.as("sk_id"),
      skillName: sql<string | null>`${skills.name}`.as("sk_name"),
      skillLevel: sql<SkillLevel | null>`${skills.level}`.as("sk_level"),
      skillCategory: sql<string | null>`${skills.category}`.as("sk_category"),
    })
    .from(equipment)
    .leftJoin(skillEquipment, eq(skillEquipment.equipmentId, equipment.id))
    .leftJoin(skills, eq(skills.id, skillEquipment.skillId));
}

type RequirementRow = Awaited<ReturnType<ReturnType<typeof requirementsQuery>["all"]>>[number];

/** Folds joined rows (one per equipment × skill) into one entry per equipment, in row order. */
export function foldRequirements(rows: RequirementRow[]): EquipmentRequirements[] {
  const byId = new Map<string, EquipmentRequirements>();
  for (const r of rows) {
    let item = byId.get(r.id);
    if (!item) {
      item = { id: r.id, name: r.name, makerspaceId: r.makerspaceId, status: r.status, requiredSkills: [] };
      byId.set(r.id, item);
    }
    if (r.skillId && r.skillName && r.skillLevel && r.skillCategory !== null) {
      item.requiredSkills.push({ id: r.skillId, name: r.skillName, level: r.skillLevel, category: r.skillCategory });
    }
  }
  return [...byId.values()];
}

function certificationsQuery(db: Db, userId: string) {
  return db
    .select({ skill_id: userSkills.skillId, expires_at: userSkills.expiresAt })
    .from(userSkills)
    .where(and(eq(userSkills.userId, userId), eq(userSkills.status, "certified")));
}

function equipmentOfMakerspace(db: Db, makerspaceId: string, includeRetired: boolean) {
  const where = includeRetired
    ? eq(equipment.makerspaceId, makerspaceId)
    : and(eq(equipment.makerspaceId, makerspaceId), ne(equipment.status, "retired"));
  return requirementsQuery(db).where(where).orderBy(asc(equipment.name), asc(equipment.id), asc(skills.name));
}

export interface SingleCheckData {
  requirements: EquipmentRequirements | undefined;
  certifications: HeldCertification[];
}

/** One equipment item's requirements and one user's certifications. */
export async function loadSingleCheck(
  deps: Deps,
  equipmentId: string,
  userId: string,
  consistency: Consistency,
): Promise<SingleCheckData> {
  const { db } = deps;
  if (consistency === "strong") {
    const [reqRows, certs] = await db.batch([
      requirementsQuery(db).where(eq(equipment.id, equipmentId)),
      certificationsQuery(db, userId),
    ]);
    return { requirements: foldRequirements(reqRows)[0], certifications: certs };
  }

  const nowMs = deps.now.getTime();
  let requirements = cachedRequirements(equipmentId, nowMs);
  let certifications: CachedCertification[] | null = await readCachedCertifications(deps, userId);
  if (!requirements && !certifications) {
    const [reqRows, certs] = await db.batch([
      requirementsQuery(db).where(eq(equipment.id, equipmentId)),
      certificationsQuery(db, userId),
    ]);
    requirements = foldRequirements(reqRows)[0];
    certifications = certs;
    await writeCachedCertifications(deps, userId, certs);
  } else if (!requirements) {
    requirements = foldRequirements(await requirementsQuery(db).where(eq(equipment.id, equipmentId)).all())[0];
  } else if (!certifications) {
    certifications = await certificationsQuery(db, userId).all();
    await writeCachedCertifications(deps, userId, certifications);
  }
  if (requirements) rememberRequirements(requirements, nowMs);
  return { requirements, certifications: certifications ?? [] };
}

export interface BulkCheckData {
  items: EquipmentRequirements[];
  certifications: HeldCertification[];
}

/** Every non-retired item of a makerspace with its requirements, and one user's certifications. */
export async function loadBulkCheck(
  deps: Deps,
  makerspaceId: string,
  userId: string,
  consistency: Consistency,
): Promise<BulkCheckData> {
  const { db } = deps;
  if (consistency === "strong") {
    const [rows, certs] = await db.batch([
      equipmentOfMakerspace(db, makerspaceId, false),
      certificationsQuery(db, userId),
    ]);
    return { items: foldRequirements(rows), certifications: certs };
  }
  const cached = await readCachedCertifications(deps, userId);
  if (cached) {
    return {
      items: foldRequirements(await equipmentOfMakerspace(db, makerspaceId, false).all()),
      certifications: cached,
    };
  }
  const [rows, certs] = await db.batch([
    equipmentOfMakerspace(db, makerspaceId, false),
    certificationsQuery(db, userId),
  ]);
  await writeCachedCertifications(deps, userId, certs);
  return { items: foldRequirements(rows), certifications: certs };
}

/** Every item of a makerspace (retired included) with its requirements: one query. */
export async function loadMakerspaceRequirements(deps: Deps, makerspaceId: string): Promise<EquipmentRequirements[]> {
  return foldRequirements(await equipmentOfMakerspace(deps.db, makerspaceId, true).all());
}
