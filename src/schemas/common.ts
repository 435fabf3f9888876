import { z } from "@hono/zod-openapi";

export const IdSchema = z.string().trim().min(1, "is required").max(100, "is too long");
export const MakerspaceIdSchema = z.string().trim().min(1, "is required").max(100, "is too long");
export const UserIdSchema = z.string().trim().min(1, "is required").max(200, "is too long");

/** ISO-8601 with a zone; normalised to the API's `…000Z` form. */
export const TimestampSchema = z.iso
  .datetime({ offset: true, message: "must be an ISO-8601 timestamp" })
  .transform((v) => new Date(v).toISOString());

export const IdArraySchema = z
  .array(IdSchema)
  .max(100, "at most 100 ids")
  .transform((ids) => [...new Set(ids)]);

/**
 * Deepest offset a list serves: SQLite reads and discards every skipped row, so a deeper page
 * costs a scan of that many rows; past it a filter (user, skill, status) narrows the list.
 */
export const MAX_OFFSET = 10_000;

export function paging(maxLimit = 200, defaultLimit = 50) {
  return {
    limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit),
    offset: z.coerce.number().int().min(0).max(MAX_OFFSET).default(0),
  };
}

export const IdParamSchema = z.strictObject({ id: IdSchema });

export type Paging = { limit: number; offset: number };
