import type { EquipmentStatus } from "../schemas/equipment";
import type { SkillLevel } from "../schemas/skills";

export interface RequiredSkill {
  id: string;
  name: string;
  level: SkillLevel;
  category: string;
  /** For a `renew_on_use` skill, the days an allowed `verify` moves its certifications to; else null. */
  renewOnUseDays: number | null;
}

export interface EquipmentRequirements {
  id: string;
  name: string;
  makerspaceId: string;
  status: EquipmentStatus;
  requiredSkills: RequiredSkill[];
}

/**
 * Per-isolate cache of equipment requirements, for `consistency=cached` checks only (strong
 * checks, `verify` and allow-lists always read D1): one entry per item (single checks) and one
 * per makerspace (the bulk check's non-retired items). Bounded in size and age: an edit made
 * through another isolate is seen here at most MAX_AGE_MS later; an edit through this isolate
 * drops the item's entry and every makerspace list at once.
 */
const MAX_AGE_MS = 30_000;
const MAX_ENTRIES = 2_000;
type Entry = { value: EquipmentRequirements | EquipmentRequirements[]; storedAt: number };
const entries = new Map<string, Entry>();
const itemKey = (equipmentId: string) => `eq:${equipmentId}`;
const makerspaceKey = (makerspaceId: string) => `ms:${makerspaceId}`;

function read(key: string, nowMs: number): Entry["value"] | undefined {
  const hit = entries.get(key);
  if (!hit) return undefined;
  if (nowMs - hit.storedAt > MAX_AGE_MS || nowMs < hit.storedAt) {
    entries.delete(key);
    return undefined;
  }
  return hit.value;
}

function write(key: string, value: Entry["value"], nowMs: number): void {
  entries.delete(key);
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  entries.set(key, { value, storedAt: nowMs });
}

export function cachedRequirements(equipmentId: string, nowMs: number): EquipmentRequirements | undefined {
  return read(itemKey(equipmentId), nowMs) as EquipmentRequirements | undefined;
}

export function rememberRequirements(value: EquipmentRequirements, nowMs: number): void {
  write(itemKey(value.id), value, nowMs);
}

/** The makerspace's non-retired items with their requirements, as the bulk check lists them. */
export function cachedMakerspaceRequirements(makerspaceId: string, nowMs: number): EquipmentRequirements[] | undefined {
  return read(makerspaceKey(makerspaceId), nowMs) as EquipmentRequirements[] | undefined;
}

export function rememberMakerspaceRequirements(
  makerspaceId: string,
  items: EquipmentRequirements[],
  nowMs: number,
): void {
  write(makerspaceKey(makerspaceId), items, nowMs);
}

/** After an edit to equipment or its links: the items' entries and every makerspace list go. */
export function forgetEquipmentRequirements(equipmentIds: Iterable<string>): void {
  for (const id of equipmentIds) entries.delete(itemKey(id));
  for (const key of [...entries.keys()]) if (key.startsWith("ms:")) entries.delete(key);
}

/** Test hook: start from an empty cache. */
export function clearRequirementsCache(): void {
  entries.clear();
}
