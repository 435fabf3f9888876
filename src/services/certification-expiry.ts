import type { Config } from "../config";
import type { SkillRow } from "../db/schema";
import { addDays, iso } from "../lib/time";

/**
 * The one place a certification's default `expires_at` is computed — for a grant, an approval or
 * an imported row that names none. `grantedAt` is when the certification was obtained: now for a
 * grant, the file's `certified_at` for an import. Per-skill validity rules replace this function.
 */
export function defaultExpiresAt(
  config: Pick<Config, "SKILL_CERTIFICATION_EXPIRY_DAYS">,
  _skill: SkillRow,
  grantedAt: Date,
): string | null {
  return iso(addDays(grantedAt, config.SKILL_CERTIFICATION_EXPIRY_DAYS));
}
