import type { EquipmentStatus } from "../catalogue/equipment.schemas";
import type { SkillLevel } from "../catalogue/skills.schemas";
import { type FillTicket, TtlCache } from "../platform/cache";

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
 * through another isolate is seen here at most 30 s later; an edit through this isolate drops the
 * item's entry and every makerspace list at once (and refuses fills from reads that raced it).
 */
const cache = new TtlCache<string, EquipmentRequirements | EquipmentRequirements[]>({
  maxEntries: 2_000,
  maxAgeMs: 30_000,
});
const itemKey = (equipmentId: string) => `eq:${equipmentId}`;
const makerspaceKey = (makerspaceId: string) => `ms:${makerspaceId}`;

/** Take before the D1 read whose result is remembered. */
export function requirementsTicket(nowMs: number): FillTicket {
  return cache.ticket(nowMs);
}

export function cachedRequirements(equipmentId: string, nowMs: number): EquipmentRequirements | undefined {
  return cache.get(itemKey(equipmentId), nowMs) as EquipmentRequirements | undefined;
}

export function rememberRequirements(value: EquipmentRequirements, ticket: FillTicket): void {
  cache.fill(itemKey(value.id), value, ticket);
}

/** The makerspace's non-retired items with their requirements, as the bulk check lists them. */
export function cachedMakerspaceRequirements(makerspaceId: string, nowMs: number): EquipmentRequirements[] | undefined {
  return cache.get(makerspaceKey(makerspaceId), nowMs) as EquipmentRequirements[] | undefined;
}

export function rememberMakerspaceRequirements(
  makerspaceId: string,
  items: EquipmentRequirements[],
  ticket: FillTicket,
): void {
  cache.fill(makerspaceKey(makerspaceId), items, ticket);
}

/** After an edit to equipment or its links: the items' entries and every makerspace list go. */
export function forgetEquipmentRequirements(equipmentIds: Iterable<string>): void {
  const items = new Set([...equipmentIds].map(itemKey));
  cache.deleteWhere((key) => items.has(key) || key.startsWith("ms:"));
}

/** Test hook: start from an empty cache. */
export function clearRequirementsCache(): void {
  cache.clear();
}
