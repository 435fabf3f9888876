import { type SQL, sql } from "drizzle-orm";
import { userSkills } from "../platform/db/schema";
import type { UserSkillStatus } from "./certifications.schemas";

/**
 * The certification rules, each stated once: a TypeScript function for rows in hand and, beside
 * it, the same rule as SQL over `user_skills` (or an alias of it, `alias(userSkills, "u")`), for
 * queries and for conditions evaluated inside a write's batch. test/certifications/rules.test.ts
 * holds each pair against each other on the same rows in D1. Timestamps are `iso()` strings:
 * fixed-format ISO-8601 compares correctly as text, in SQLite as in JavaScript.
 *
 * The validity computations (when a certification granted now expires; whether a `fixed_date`
 * has passed) live beside them in ./validity.ts, each with its SQL twin, and are re-exported here.
 */
export { endOfDay, expiryFor, expirySql, fixedDateOpenSql, fixedDatePassed, validityOf } from "./validity";

/** The columns the rules read: of `user_skills`, or of an alias of it. */
export type RuleColumns = Pick<typeof userSkills, "status" | "expiresAt">;

/** What the TypeScript side of a rule reads of a row. */
export interface RuleRow {
  status: UserSkillStatus;
  expires_at: string | null;
}

/** Not expired at `nowIso`: no `expires_at`, or one after now. One expiring exactly now is expired. */
export function isUnexpired(expiresAt: string | null, nowIso: string): boolean {
  return expiresAt === null || expiresAt > nowIso;
}

/** {@link isUnexpired} as SQL. */
export function unexpiredSql(nowIso: string, t: RuleColumns = userSkills): SQL {
  return sql`(${t.expiresAt} is null or ${t.expiresAt} > ${nowIso})`;
}

/**
 * In force: status `certified` and not expired at `nowIso`. What grants access, satisfies a
 * prerequisite, and makes a request or a grant "already held".
 */
export function isInForce(row: RuleRow, nowIso: string): boolean {
  return row.status === "certified" && isUnexpired(row.expires_at, nowIso);
}

/** {@link isInForce} as SQL. */
export function inForceSql(nowIso: string, t: RuleColumns = userSkills): SQL {
  return sql`(${t.status} = 'certified' and ${unexpiredSql(nowIso, t)})`;
}

/**
 * In force and due to expire: certified, with an `expires_at` after `nowIso` (a certification
 * that never expires is never renewed nor reminded of).
 */
export function isInForceWithExpiry(row: RuleRow, nowIso: string): boolean {
  return row.status === "certified" && row.expires_at !== null && row.expires_at > nowIso;
}

/** {@link isInForceWithExpiry} as SQL. */
export function inForceWithExpirySql(nowIso: string, t: RuleColumns = userSkills): SQL {
  return sql`(${t.status} = 'certified' and ${t.expiresAt} > ${nowIso})`;
}

/**
 * Expiring within the window: in force at `nowIso` with its `expires_at` at or before `untilIso`
 * (`now + N days`: the list's `expiring_within_days`, the reminders' 30/7/1-day windows).
 */
export function isExpiringBy(row: RuleRow, nowIso: string, untilIso: string): boolean {
  return isInForceWithExpiry(row, nowIso) && (row.expires_at as string) <= untilIso;
}

/** {@link isExpiringBy} as SQL. */
export function expiringBySql(nowIso: string, untilIso: string, t: RuleColumns = userSkills): SQL {
  return sql`(${inForceWithExpirySql(nowIso, t)} and ${t.expiresAt} <= ${untilIso})`;
}

/**
 * Lapsed: stored `certified` but its `expires_at` is at or before `nowIso` — it reads as
 * `expired` (the expiry cron writes that status; readers do not wait for it).
 */
export function hasLapsed(row: RuleRow, nowIso: string): boolean {
  return row.status === "certified" && row.expires_at !== null && row.expires_at <= nowIso;
}

/** {@link hasLapsed} as SQL (a null `expires_at` compares as null: not lapsed). */
export function lapsedSql(nowIso: string, t: RuleColumns = userSkills): SQL {
  return sql`(${t.status} = 'certified' and ${t.expiresAt} <= ${nowIso})`;
}

/** The status the API shows: a lapsed row is `expired`, whatever the cron has done; else as stored. */
export function effectiveStatus(row: RuleRow, nowIso: string): UserSkillStatus {
  return hasLapsed(row, nowIso) ? "expired" : row.status;
}

/** {@link effectiveStatus} as SQL. */
export function effectiveStatusSql(nowIso: string, t: RuleColumns = userSkills): SQL<UserSkillStatus> {
  return sql<UserSkillStatus>`(case when ${lapsedSql(nowIso, t)} then 'expired' else ${t.status} end)`;
}

/** The rows the KV cache and an access decision start from: stored `certified` (expiry is judged by the reader). */
export function storedCertifiedSql(t: Pick<typeof userSkills, "status"> = userSkills): SQL {
  return sql`${t.status} = 'certified'`;
}
