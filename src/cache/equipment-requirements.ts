import type { EquipmentStatus } from "../schemas/equipment";
import type { SkillLevel } from "../schemas/skills";

export interface RequiredSkill {
  id: string;
  name: string;
  level: SkillLevel;
  category: string;
}

export interface EquipmentRequirements {
  id: string;
  name: string;
  makerspaceId: string;
  status: EquipmentStatus;
  requiredSkills: RequiredSkill[];
}

/**
 * Per-isolate cache of an equipment item and its required skills, for `consistency=cached`
 * checks only (strong checks and `verify` always read D1). Bounded in size and age: an edit made
 * through another isolate is seen here at most MAX_AGE_MS later; edits through this isolate drop
 * the entry at once.
 */
const MAX_AGE_MS = 30_000;
const MAX_ENTRIES = 2_000;
const entries = new Map<string, { value: EquipmentRequirements; storedAt: number }>();

export function cachedRequirements(equipmentId: string, nowMs: number): EquipmentRequirements | undefined {
  const hit = entries.get(equipmentId);
  if (!hit) return undefined;
  if (nowMs - hit.storedAt > MAX_AGE_MS || nowMs < hit.storedAt) {
    entries.delete(equipmentId);
    return undefined;
  }
  return hit.value;
}

export function rememberRequirements(value: EquipmentRequirements, nowMs: number): void {
  entries.delete(value.id);
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  entries.set(value.id, { value, storedAt: nowMs });
}

export function forgetEquipmentRequirements(equipmentIds: Iterable<string>): void {
  for (const id of equipmentIds) entries.delete(id);
}

/** Test hook: start from an empty cache. */
export function clearRequirementsCache(): void {
  entries.clear();
}
