import type { EquipmentStatus } from "../catalogue/equipment.schemas";
import type { CertificationRow } from "../certifications/row";
import { isUnexpired } from "../certifications/rules";
import type { Denial } from "./access.schemas";

export interface RequiredSkillRef {
  id: string;
  name: string;
}

/**
 * A stored-certified row of the member's: the skill and its expiry (what the KV cache holds), and
 * — read by `verify` only (strong reads), for renewals by use — its id and last renewal by use.
 */
export type HeldCertification = Pick<CertificationRow, "skill_id" | "expires_at"> &
  Partial<Pick<CertificationRow, "id" | "last_use_renewal_at">>;

export interface DecisionInput {
  equipmentStatus: EquipmentStatus;
  requiredSkills: RequiredSkillRef[];
  /**
   * Rows with stored status `certified` (expiry is decided here against `now`), or the ids
   * `heldSkillIds` made of them for this `now` (one set for many items: the bulk check).
   */
  certifications: readonly HeldCertification[] | ReadonlySet<string>;
  now: Date;
  enforcement: boolean;
  emergencyOverride: boolean;
}

export interface Decision {
  can_access: boolean;
  /** Names of the required skills the user holds, certified and unexpired. */
  user_skills: string[];
  /** Names of the required skills the user lacks (or holds expired). */
  missing_skills: string[];
  reason: string;
}

/** The skill ids held certified and unexpired at `now`. */
export function heldSkillIds(certifications: readonly HeldCertification[], now: Date): ReadonlySet<string> {
  const nowIso = now.toISOString();
  const held = new Set<string>();
  for (const c of certifications) if (isUnexpired(c.expires_at, nowIso)) held.add(c.skill_id);
  return held;
}

function isHeldSet(c: DecisionInput["certifications"]): c is ReadonlySet<string> {
  return c instanceof Set;
}

/** `localeCompare`'s order (the default locale's collation) without building a collator per call. */
const byName = new Intl.Collator().compare;

/**
 * The access rule (docs/API.md, "Equipment access") as a pure function — the hot path's heart. In order:
 * equipment in maintenance or retired is closed to everyone; emergency override opens what is
 * left; equipment with no linked skills is open; otherwise every linked skill must be held
 * certified and unexpired, unless enforcement is off (then open, still listing what is missing).
 */
export function decideAccess(input: DecisionInput): Decision {
  const given = input.certifications;
  const held = isHeldSet(given) ? given : heldSkillIds(given, input.now);
  const required = [...input.requiredSkills].sort((a, b) => byName(a.name, b.name));
  const userSkills: string[] = [];
  const missing: string[] = [];
  for (const s of required) (held.has(s.id) ? userSkills : missing).push(s.name);
  const result = (can_access: boolean, reason: string): Decision => ({
    can_access,
    user_skills: userSkills,
    missing_skills: missing,
    reason,
  });

  if (input.equipmentStatus === "maintenance") return result(false, "Equipment is under maintenance");
  if (input.equipmentStatus === "retired") return result(false, "Equipment is retired");
  if (input.emergencyOverride) return result(true, "Emergency override is active");
  if (required.length === 0) return result(true, "No skills required");
  if (missing.length === 0) return result(true, "All required skills certified");
  const list = missing.join(", ");
  if (!input.enforcement) return result(true, `Skill enforcement is disabled; missing: ${list}`);
  return result(false, `Missing required skills: ${list}`);
}

export interface DenialInput {
  equipmentStatus: EquipmentStatus;
  /** False when `verify` named a badge that resolves to no member of the equipment's makerspace. */
  badgeKnown: boolean;
  /** The decision for the member (ignored for an unknown badge, which is never let in). */
  canAccess: boolean;
}

/**
 * The stable code a denied `verify` carries beside its human `reason`, or null when allowed.
 * When several apply, the first of `equipment_unavailable`, `unknown_badge`, `missing_skills`
 * wins: a machine in maintenance is closed whoever taps (the controller should show "out of
 * service", not "unknown card"), and a card that names nobody has no skills to miss.
 */
export function denialOf(input: DenialInput & { badgeKnown: false }): Denial;
export function denialOf(input: DenialInput): Denial | null;
export function denialOf(input: DenialInput): Denial | null {
  if (input.equipmentStatus === "maintenance" || input.equipmentStatus === "retired") return "equipment_unavailable";
  if (!input.badgeKnown) return "unknown_badge";
  return input.canAccess ? null : "missing_skills";
}
