import { newEvent } from "../audit/events";
import { publishDirect } from "../audit/producer";
import { renewOnUse } from "../certifications/use-renewal";
import { deviceEquipmentScope, visibleOr404 } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { AppError } from "../platform/errors";
import type { AccessResult, BulkAccess, Denial, EquipmentRequirementsList } from "./access.schemas";
import { type Decision, decideAccess, denialOf, type HeldCertification, heldSkillIds } from "./decide";
import type { EquipmentRequirements } from "./requirements-cache";
import { type Consistency, loadBulkCheck, loadMakerspaceRequirements, loadSingleCheck } from "./store";

export function decide(
  deps: Deps,
  item: EquipmentRequirements,
  certifications: readonly HeldCertification[] | ReadonlySet<string>,
): Decision {
  return decideAccess({
    equipmentStatus: item.status,
    requiredSkills: item.requiredSkills,
    certifications,
    now: deps.now,
    enforcement: deps.config.EQUIPMENT_SKILL_ENFORCEMENT,
    emergencyOverride: deps.config.EQUIPMENT_EMERGENCY_OVERRIDE,
  });
}

export function visibleEquipment(actor: Principal, item: EquipmentRequirements | undefined): EquipmentRequirements {
  return visibleOr404(actor, item, "equipment_not_found", "Equipment not found");
}

/** The route's `device-equipment` scope has already held a device to its equipment. */
async function evaluate(
  deps: Deps,
  actor: Principal,
  equipmentId: string,
  userId: string,
  consistency: Consistency,
): Promise<{ item: EquipmentRequirements; result: AccessResult; certifications: HeldCertification[] }> {
  const data = await loadSingleCheck(deps, equipmentId, userId, consistency, actor.makerspaceId);
  const item = visibleEquipment(actor, data.requirements);
  const result = {
    equipment_id: item.id,
    equipment_name: item.name,
    user_id: userId,
    ...decide(deps, item, data.certifications),
  };
  return { item, result, certifications: data.certifications };
}

/** May this member use this machine? No side effects. */
export async function checkAccess(
  deps: Deps,
  actor: Principal,
  equipmentId: string,
  userId: string,
  consistency: Consistency,
): Promise<AccessResult> {
  return (await evaluate(deps, actor, equipmentId, userId, consistency)).result;
}

/**
 * The door and machine controllers' call: always strong (a door must not open on a revoked
 * certification still held in KV elsewhere), audited off the response path, 403 when denied.
 * An allowed one renews the user's `renew_on_use` certifications of the item, off the path too.
 */
export async function verifyAccess(
  deps: Deps,
  actor: Principal,
  equipmentId: string,
  userId: string,
): Promise<AccessResult> {
  const { item, result, certifications } = await evaluate(deps, actor, equipmentId, userId, "strong");
  const denial = denialOf({ equipmentStatus: item.status, badgeKnown: true, canAccess: result.can_access });
  const outcome = { ...result, denial };
  recordVerify(deps, actor, item.makerspaceId, outcome, { equipment_id: item.id });
  denyUnlessAllowed(outcome);
  renewOnUse(deps, item, userId, certifications);
  return result;
}

/** What a verify decided: `denial` is null exactly when `can_access` is true. */
export type VerifyOutcome = Pick<AccessResult, "can_access" | "reason" | "missing_skills"> & {
  user_id: string | null;
  denial: Denial | null;
};

/**
 * `access_granted` / `access_denied` for one verify, in the equipment's makerspace whoever the
 * caller is (a super_admin has none), sent to the queue off the response path.
 */
export function recordVerify(
  deps: Deps,
  actor: Principal,
  makerspaceId: string,
  result: VerifyOutcome,
  metadata: Record<string, unknown> & { equipment_id: string },
): void {
  publishDirect(deps, [
    newEvent(deps, {
      action: result.can_access ? "access_granted" : "access_denied",
      makerspaceId,
      userId: result.user_id,
      performedBy: actor.sub,
      reason: result.reason,
      metadata: {
        ...metadata,
        missing_skills: result.missing_skills,
        ...(result.denial ? { denial: result.denial } : {}),
      },
    }),
  ]);
}

/** A denied verify leaves as 403 `insufficient_skills` with the missing skills, `reason` and `denial`. */
export function deniedError(outcome: VerifyOutcome & { denial: Denial }): AppError {
  return new AppError("insufficient_skills", outcome.reason, {
    missing_skills: outcome.missing_skills,
    reason: outcome.reason,
    denial: outcome.denial,
  });
}

export function denyUnlessAllowed(outcome: VerifyOutcome): void {
  if (outcome.denial) throw deniedError({ ...outcome, denial: outcome.denial });
}

/**
 * Every non-retired item of the makerspace for one user, with a summary. A device registered for
 * some equipment acts only for those items, so its answer lists only them.
 */
export async function bulkAccess(
  deps: Deps,
  actor: Principal,
  makerspaceId: string,
  userId: string,
  consistency: Consistency,
): Promise<BulkAccess> {
  const data = await loadBulkCheck(deps, makerspaceId, userId, consistency);
  const only = deviceEquipmentScope(actor);
  const items = only ? data.items.filter((item) => only.has(item.id)) : data.items;
  const held = heldSkillIds(data.certifications, deps.now);
  const equipmentAccess = items.map((item) => {
    const d = decide(deps, item, held);
    return {
      equipment_id: item.id,
      equipment_name: item.name,
      can_access: d.can_access,
      user_skills: d.user_skills,
      missing_skills: d.missing_skills,
    };
  });
  const total = equipmentAccess.length;
  const accessible = equipmentAccess.filter((e) => e.can_access).length;
  return {
    user_id: userId,
    makerspace_id: makerspaceId,
    equipment_access: equipmentAccess,
    summary: {
      total_equipment: total,
      accessible_equipment: accessible,
      access_percentage: total === 0 ? 0 : Math.round((accessible / total) * 1000) / 10,
    },
  };
}

/** Each item of the makerspace with the skills it requires (`required_level` = the skill's level). */
export async function equipmentRequirements(
  deps: Deps,
  actor: Principal,
  makerspaceId: string,
): Promise<EquipmentRequirementsList> {
  const only = deviceEquipmentScope(actor);
  const all = await loadMakerspaceRequirements(deps, makerspaceId);
  const items = only ? all.filter((item) => only.has(item.id)) : all;
  return items.map((item) => ({
    equipment_id: item.id,
    equipment_name: item.name,
    required_skills: [...item.requiredSkills]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => ({
        skill_id: s.id,
        skill_name: s.name,
        skill_level: s.level,
        required_level: s.level,
        category: s.category,
        is_required: true,
      })),
  }));
}
