import { and, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { storedCertifiedSql } from "../certifications/rules";
import type { Config } from "../platform/config";
import type { Deps } from "../platform/context";
import { type Db, type Statement, valuesOf } from "../platform/db/client";
import { equipment, skillEquipment, userSkills } from "../platform/db/schema";

/** What a change touches, and so whose allow-lists it may alter. */
export interface BumpTargets {
  /** These items (status changes, links being added or removed). */
  equipmentIds?: readonly string[];
  /** The items linked to these skills when the statement runs (certification changes, link changes). */
  skillIds?: readonly string[];
  /**
   * The items of `makerspaceId` linked to a skill this user holds certified (badge changes: the
   * badge hashes appear on exactly those lists). Both or neither.
   */
  userId?: string;
  makerspaceId?: string;
}

/**
 * The statement that bumps the stored allow-list version of every item `targets` names: append it
 * to the change's own `db.batch`, so the version moves exactly when the change commits, and pass
 * `when` (the change's "it applied" condition) when the change is conditional. Place it after the
 * change when the change adds links or certifications, before it when it removes them — or both:
 * a bump is only ever an extra refetch for a controller, a missing one a stale door.
 *
 * Bumps never look at what the list will contain: any change that touches the item moves its
 * version (the contract allows a bump whose content ends equal), changes elsewhere never do. One
 * statement whatever the number of ids (each list is one bound parameter).
 */
export function allowlistBumps(deps: { db: Db }, targets: BumpTargets, when?: SQL): Statement[] {
  const matches: SQL[] = [];
  if (targets.equipmentIds && targets.equipmentIds.length > 0) {
    matches.push(sql`${equipment.id} in ${valuesOf(targets.equipmentIds)}`);
  }
  if (targets.skillIds && targets.skillIds.length > 0) {
    matches.push(
      inArray(
        equipment.id,
        deps.db
          .select({ id: skillEquipment.equipmentId })
          .from(skillEquipment)
          .where(sql`${skillEquipment.skillId} in ${valuesOf(targets.skillIds)}`),
      ),
    );
  }
  if (targets.userId !== undefined && targets.makerspaceId !== undefined) {
    const held = deps.db
      .select({ id: skillEquipment.equipmentId })
      .from(skillEquipment)
      .innerJoin(userSkills, eq(userSkills.skillId, skillEquipment.skillId))
      .where(and(eq(userSkills.userId, targets.userId), storedCertifiedSql()));
    matches.push(and(eq(equipment.makerspaceId, targets.makerspaceId), inArray(equipment.id, held)) as SQL);
  }
  if (matches.length === 0) return [];
  return [
    deps.db
      .update(equipment)
      .set({ allowlistVersion: sql`${equipment.allowlistVersion} + 1` })
      .where(and(or(...matches), when)),
  ];
}

/**
 * The version a controller sees (allow-list `version`, `ETag`, heartbeat): the stored counter with
 * the two settings that decide every list of the deployment, so a deploy that flips the emergency
 * override or enforcement changes every version without a write (`v12-01`: override off,
 * enforcement on).
 */
export function servedVersion(
  counter: number,
  config: Pick<Config, "EQUIPMENT_EMERGENCY_OVERRIDE" | "EQUIPMENT_SKILL_ENFORCEMENT">,
): string {
  return `v${counter}-${config.EQUIPMENT_EMERGENCY_OVERRIDE ? 1 : 0}${config.EQUIPMENT_SKILL_ENFORCEMENT ? 1 : 0}`;
}

/** Statement: the stored counters of a makerspace's items (all, or only `equipmentIds`), one indexed read. */
export function storedVersionsQuery(deps: Pick<Deps, "db">, makerspaceId: string, equipmentIds: readonly string[]) {
  return deps.db
    .select({ id: equipment.id, version: equipment.allowlistVersion })
    .from(equipment)
    .where(
      and(
        eq(equipment.makerspaceId, makerspaceId),
        equipmentIds.length > 0 ? sql`${equipment.id} in ${valuesOf(equipmentIds)}` : undefined,
      ),
    );
}
