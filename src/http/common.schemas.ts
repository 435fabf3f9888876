import { z } from "@hono/zod-openapi";

/**
 * For the document only: the server trims these strings and then asks for at least one character,
 * so " " passes `minLength: 1` yet is refused. The pattern (no white space at either end, at least
 * one other character) says what survives trimming; the server still accepts padded values.
 */
export const NO_OUTER_SPACE = "^\\S(?:[\\s\\S]*\\S)?$";

/** A trimmed string of 1–`max` characters, documented as what survives the trimming. */
export function trimmedString(max: number, messages: { empty: string; long: string }) {
  return z.string().trim().min(1, messages.empty).max(max, messages.long).openapi({ pattern: NO_OUTER_SPACE });
}

export const IdSchema = trimmedString(100, { empty: "is required", long: "is too long" });
export const MakerspaceIdSchema = trimmedString(100, { empty: "is required", long: "is too long" });
export const UserIdSchema = trimmedString(200, { empty: "is required", long: "is too long" });

/** ISO-8601 with a zone; normalised to the API's `…000Z` form. */
export const TimestampSchema = z.iso
  .datetime({ offset: true, message: "must be an ISO-8601 timestamp" })
  .transform((v) => new Date(v).toISOString());

export const IdArraySchema = z
  .array(IdSchema)
  .max(100, "at most 100 ids")
  .transform((ids) => [...new Set(ids)]);

/**
 * An integer query parameter. `z.coerce.number()` alone would turn `null` into 0, which the
 * document generator reads as "nullable"; a query value is text, never null, so null is refused.
 */
export function queryInt(min: number, max: number) {
  return z.preprocess((v) => (v === null ? Number.NaN : v), z.coerce.number().int().min(min).max(max));
}

/**
 * Deepest offset a list serves: SQLite reads and discards every skipped row, so a deeper page
 * costs a scan of that many rows; past it a filter (user, skill, status) narrows the list.
 */
export const MAX_OFFSET = 10_000;

export function paging(maxLimit = 200, defaultLimit = 50) {
  return {
    limit: queryInt(1, maxLimit).default(defaultLimit),
    offset: queryInt(0, MAX_OFFSET).default(0),
  };
}

export const IdParamSchema = z.strictObject({ id: IdSchema });

export type Paging = { limit: number; offset: number };
