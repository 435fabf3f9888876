import { type SQL, sql } from "drizzle-orm";
import type { Config } from "../platform/config";
import { type SkillRow, skills } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { addDays, iso } from "../platform/time";
import type { Validity, ValidityInput } from "./validity.schemas";

type ValidityColumns = Pick<SkillRow, "validityMode" | "validityDays" | "validityDate">;

/**
 * A skill's validity as the API shows it. A `duration` skill created without `validity` stores
 * no days and follows SKILL_CERTIFICATION_EXPIRY_DAYS; reads show that configured number.
 */
export function validityOf(row: ValidityColumns, config: Pick<Config, "SKILL_CERTIFICATION_EXPIRY_DAYS">): Validity {
  switch (row.validityMode) {
    case "never":
      return { mode: "never" };
    case "fixed_date":
      return { mode: "fixed_date", date: row.validityDate ?? "" };
    case "renew_on_use":
      return { mode: "renew_on_use", days: row.validityDays ?? config.SKILL_CERTIFICATION_EXPIRY_DAYS };
    default:
      return { mode: "duration", days: row.validityDays ?? config.SKILL_CERTIFICATION_EXPIRY_DAYS };
  }
}

/** The columns for a `validity` sent on create or update; none (or null) is the configured default. */
export function validityColumns(input: ValidityInput | null | undefined): ValidityColumns {
  if (!input) return { validityMode: "duration", validityDays: null, validityDate: null };
  return {
    validityMode: input.mode,
    validityDays: "days" in input ? input.days : null,
    validityDate: "date" in input ? input.date : null,
  };
}

/** What follows a `YYYY-MM-DD` date to make the last millisecond of that UTC day. */
const END_OF_DAY = "T23:59:59.999Z";

/** The last millisecond of a `YYYY-MM-DD` UTC day: when a `fixed_date` certification expires. */
export function endOfDay(date: string): string {
  return `${date}${END_OF_DAY}`;
}

/**
 * A `fixed_date` skill whose date is over grants nothing more without an explicit `expires_at`.
 * The date is inclusive: a grant at its last millisecond is still accepted.
 */
export function fixedDatePassed(validity: Validity, now: Date): boolean {
  return validity.mode === "fixed_date" && iso(now) > endOfDay(validity.date);
}

/**
 * When a certification granted (or renewed, or approved) at `now` expires — the one rule for
 * every path that certifies, imports included: an explicit `expires_at` wins; otherwise the
 * skill's validity decides (null = never). A `fixed_date` that has passed is 409 `invalid_state`.
 */
export function expiryFor(validity: Validity, now: Date, explicit?: string | null): string | null {
  if (explicit) return explicit;
  switch (validity.mode) {
    case "never":
      return null;
    case "fixed_date":
      if (fixedDatePassed(validity, now)) {
        throw new AppError(
          "invalid_state",
          `Certifications of this skill ran until ${validity.date}; give an explicit expires_at or change the skill's validity`,
        );
      }
      return endOfDay(validity.date);
    case "duration":
    case "renew_on_use":
      return iso(addDays(now, validity.days));
  }
}

/**
 * {@link expiryFor} without an explicit `expires_at`, as SQL over the skill's stored validity, for
 * a write that reads the skill inside its own batch (a grant in one D1 round trip): the same
 * instants, to the millisecond, in the same ISO format. Null when the skill does not exist. Where
 * `expiryFor` throws (a `fixed_date` that has passed), the write must be guarded by
 * {@link fixedDateOpenSql}, and a write that did not apply is explained with `expiryFor` itself.
 */
export function expirySql(
  skillId: string,
  now: Date,
  config: Pick<Config, "SKILL_CERTIFICATION_EXPIRY_DAYS">,
): SQL<string | null> {
  return sql<string | null>`(select case ${skills.validityMode}
      when 'never' then null
      when 'fixed_date' then coalesce(${skills.validityDate}, '') || ${END_OF_DAY}
      else strftime('%Y-%m-%dT%H:%M:%fZ', ${iso(now)},
        '+' || coalesce(${skills.validityDays}, ${config.SKILL_CERTIFICATION_EXPIRY_DAYS}) || ' days')
    end from ${skills} where ${skills.id} = ${skillId})`;
}

/** SQL: the skill's fixed date, if it has one, has not passed at `now` ({@link fixedDatePassed}). */
export function fixedDateOpenSql(skillId: string, now: Date): SQL {
  return sql`not exists (select 1 from ${skills} where ${skills.id} = ${skillId} and ${skills.validityMode} = 'fixed_date'
    and ${iso(now)} > (coalesce(${skills.validityDate}, '') || ${END_OF_DAY}))`;
}
