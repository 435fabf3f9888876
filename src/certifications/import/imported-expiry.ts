import type { Config } from "../../platform/config";
import type { SkillRow } from "../../platform/db/schema";
import { AppError } from "../../platform/errors";
import { expiryFor, validityOf } from "../validity";

/**
 * An imported row's `expires_at`: the same rule as a grant, a renewal or an approval (`expiryFor`
 * with the skill's validity; an explicit `expires_at` wins), applied at `grantedAt` — when the
 * certification was obtained: the file's `certified_at`, else now. A `fixed_date` skill whose date
 * had passed by then gives no expiry: the row fails with the message a grant's 409 `invalid_state`
 * carries.
 */
export function importedExpiresAt(
  config: Pick<Config, "SKILL_CERTIFICATION_EXPIRY_DAYS">,
  skill: Pick<SkillRow, "validityMode" | "validityDays" | "validityDate">,
  grantedAt: Date,
  explicit: string | undefined,
): { expiresAt: string | null } | { error: string } {
  try {
    return { expiresAt: expiryFor(validityOf(skill, config), grantedAt, explicit) };
  } catch (err) {
    if (err instanceof AppError && err.type === "invalid_state") return { error: err.message };
    throw err;
  }
}
