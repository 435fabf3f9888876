import { and, asc, eq, ne, type Placeholder, sql } from "drizzle-orm";
import type { EquipmentStatus } from "../catalogue/equipment.schemas";
import type { SkillLevel } from "../catalogue/skills.schemas";
import {
  type CachedCertification,
  certificationsQuery,
  fillCachedCertifications,
  readCachedCertifications,
} from "../certifications/cache";
import { storedCertifiedSql } from "../certifications/rules";
import type { FillTicket } from "../platform/cache";
import type { Deps } from "../platform/context";
import type { Db } from "../platform/db/client";
import { equipment, skillEquipment, skills, userSkills } from "../platform/db/schema";
import type { HeldCertification } from "./decide";
import {
  cachedMakerspaceRequirements,
  cachedRequirements,
  type EquipmentRequirements,
  rememberMakerspaceRequirements,
  rememberRequirements,
  requirementsTicket,
} from "./requirements-cache";

/**
 * Data loading for the access checks, shaped by the round-trip budget of issue 4:
 * - strong: requirements and the user's certifications of those skills in ONE query (a join),
 *   never stale;
 * - cached: requirements from the per-isolate cache, certifications from KV; whatever missed is
 *   read in one D1 batch (so 0 round trips warm, 1 cold).
 */
export type Consistency = "cached" | "strong";

/**
 * Every column carries a distinct alias: D1 batch results come back as objects keyed by column
 * name, so `equipment.id` and `skills.id` would otherwise collide.
 */
const requirementColumns = {
  id: sql<string>`${equipment.id}`.as("eq_id"),
  name: sql<string>`${equipment.name}`.as("eq_name"),
  makerspaceId: sql<string>`${equipment.makerspaceId}`.as("eq_makerspace_id"),
  status: sql<EquipmentStatus>`${equipment.status}`.as("eq_status"),
  skillId: sql<string | null>`${skills.id}`.as("sk_id"),
  skillName: sql<string | null>`${skills.name}`.as("sk_name"),
  skillLevel: sql<SkillLevel | null>`${skills.level}`.as("sk_level"),
  skillCategory: sql<string | null>`${skills.category}`.as("sk_category"),
  skillRenewDays: sql<
    number | null
  >`case when ${skills.validityMode} = 'renew_on_use' then ${skills.validityDays} end`.as("sk_renew_days"),
};

export function requirementsQuery(db: Db) {
  return db
    .select(requirementColumns)
    .from(equipment)
    .leftJoin(skillEquipment, eq(skillEquipment.equipmentId, equipment.id))
    .leftJoin(skills, eq(skills.id, skillEquipment.skillId));
}

/** Requirements joined with the user's certified row for each required skill (if any). */
function strongCheckQuery(db: Db, userId: string | Placeholder) {
  return db
    .select({
      ...requirementColumns,
      certId: sql<string | null>`${userSkills.id}`.as("us_id"),
      certExpiresAt: sql<string | null>`${userSkills.expiresAt}`.as("us_expires_at"),
      certLastUseRenewalAt: sql<string | null>`${userSkills.lastUseRenewalAt}`.as("us_last_use_renewal_at"),
    })
    .from(equipment)
    .leftJoin(skillEquipment, eq(skillEquipment.equipmentId, equipment.id))
    .leftJoin(skills, eq(skills.id, skillEquipment.skillId))
    .leftJoin(userSkills, and(eq(userSkills.skillId, skills.id), eq(userSkills.userId, userId), storedCertifiedSql()));
}

type StrongRow = Awaited<ReturnType<ReturnType<typeof strongCheckQuery>["all"]>>[number];

/**
 * The strong checks' two queries, built and prepared once per Drizzle instance: Drizzle's query
 * building was a quarter of a strong check's own CPU; a prepared query only binds its values.
 */
function preparedStrongQueries(db: Db) {
  const user = sql.placeholder("userId");
  return {
    single: strongCheckQuery(db, user)
      .where(eq(equipment.id, sql.placeholder("equipmentId")))
      .prepare(),
    bulk: strongCheckQuery(db, user)
      .where(nonRetiredOf(sql.placeholder("makerspaceId")))
      .orderBy(...listOrder)
      .prepare(),
  };
}
const strongQueries = new WeakMap<Db, ReturnType<typeof preparedStrongQueries>>();

function strong(db: Db): ReturnType<typeof preparedStrongQueries> {
  let queries = strongQueries.get(db);
  if (!queries) {
    queries = preparedStrongQueries(db);
    strongQueries.set(db, queries);
  }
  return queries;
}

/** The certifications a strong query found (only those of required skills: all the rule needs). */
function heldIn(rows: StrongRow[]): HeldCertification[] {
  const held = new Map<string, HeldCertification>();
  for (const r of rows) {
    if (r.certId && r.skillId) {
      held.set(r.skillId, {
        skill_id: r.skillId,
        expires_at: r.certExpiresAt,
        id: r.certId,
        last_use_renewal_at: r.certLastUseRenewalAt,
      });
    }
  }
  return [...held.values()];
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
      item.requiredSkills.push({
        id: r.skillId,
        name: r.skillName,
        level: r.skillLevel,
        category: r.skillCategory,
        renewOnUseDays: r.skillRenewDays,
      });
    }
  }
  return [...byId.values()];
}

const nonRetiredOf = (makerspaceId: string | Placeholder) =>
  and(eq(equipment.makerspaceId, makerspaceId), ne(equipment.status, "retired"));
const listOrder = [asc(equipment.name), asc(equipment.id), asc(skills.name)];

export interface SingleCheckData {
  requirements: EquipmentRequirements | undefined;
  certifications: HeldCertification[];
}

/**
 * One equipment item's requirements and one user's certifications. `makerspaceId` is the
 * caller's, whose member's KV entry a cached check reads; a super_admin has none, so its cached
 * check reads the item first and takes the item's.
 */
export async function loadSingleCheck(
  deps: Deps,
  equipmentId: string,
  userId: string,
  consistency: Consistency,
  makerspaceId: string | null,
): Promise<SingleCheckData> {
  const { db } = deps;
  if (consistency === "strong") {
    const rows = await strong(db).single.all({ userId, equipmentId });
    return { requirements: foldRequirements(rows)[0], certifications: heldIn(rows) };
  }

  const nowMs = deps.now.getTime();
  const ticket = requirementsTicket(nowMs);
  const itemQuery = () => requirementsQuery(db).where(eq(equipment.id, equipmentId));
  let requirements = cachedRequirements(equipmentId, nowMs);
  if (makerspaceId === null) {
    requirements ??= rememberItem(foldRequirements(await itemQuery().all())[0], ticket);
    if (!requirements) return { requirements, certifications: [] };
  }
  const member = { makerspaceId: makerspaceId ?? (requirements as EquipmentRequirements).makerspaceId, userId };
  let certifications: CachedCertification[] | null = await readCachedCertifications(deps, member);
  if (!requirements && !certifications) {
    const [reqRows, certs] = await db.batch([itemQuery(), certificationsQuery(db, member)]);
    requirements = rememberItem(foldRequirements(reqRows)[0], ticket);
    certifications = certs;
    fillCachedCertifications(deps, member, certs);
  } else if (!requirements) {
    requirements = rememberItem(foldRequirements(await itemQuery().all())[0], ticket);
  } else if (!certifications) {
    certifications = await certificationsQuery(db, member).all();
    fillCachedCertifications(deps, member, certifications);
  }
  return { requirements, certifications: certifications ?? [] };
}

/** Cached only when read from D1: a hit must not refresh its own age. */
function rememberItem(item: EquipmentRequirements | undefined, ticket: FillTicket): EquipmentRequirements | undefined {
  if (item) rememberRequirements(item, ticket);
  return item;
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
    const rows = await strong(db).bulk.all({ userId, makerspaceId });
    return { items: foldRequirements(rows), certifications: heldIn(rows) };
  }
  const nowMs = deps.now.getTime();
  const ticket = requirementsTicket(nowMs);
  const member = { makerspaceId, userId };
  let items = cachedMakerspaceRequirements(makerspaceId, nowMs);
  let certifications: CachedCertification[] | null = await readCachedCertifications(deps, member);
  const itemsQuery = () =>
    requirementsQuery(db)
      .where(nonRetiredOf(makerspaceId))
      .orderBy(...listOrder);
  if (!items && !certifications) {
    const [rows, certs] = await db.batch([itemsQuery(), certificationsQuery(db, member)]);
    items = foldRequirements(rows);
    rememberMakerspaceRequirements(makerspaceId, items, ticket);
    certifications = certs;
    fillCachedCertifications(deps, member, certs);
  } else if (!items) {
    items = foldRequirements(await itemsQuery().all());
    rememberMakerspaceRequirements(makerspaceId, items, ticket);
  } else if (!certifications) {
    certifications = await certificationsQuery(db, member).all();
    fillCachedCertifications(deps, member, certifications);
  }
  return { items, certifications: certifications ?? [] };
}

/** Every item of a makerspace (retired included) with its requirements: one query. */
export async function loadMakerspaceRequirements(deps: Deps, makerspaceId: string): Promise<EquipmentRequirements[]> {
  return foldRequirements(
    await requirementsQuery(deps.db)
      .where(eq(equipment.makerspaceId, makerspaceId))
      .orderBy(...listOrder)
      .all(),
  );
}
