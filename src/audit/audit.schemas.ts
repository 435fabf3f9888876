import { z } from "@hono/zod-openapi";
import { IdSchema, MakerspaceIdSchema, queryInt, TimestampSchema, UserIdSchema } from "../http/common.schemas";
import { base64urlPattern } from "../platform/base64url-pattern";
import { AUDIT_ACTIONS } from "./events";

/** `created_at` as the service writes it (`toISOString()`), position by position: the cursor's first part. */
const CREATED_AT_SHAPE = [..."DDDD-DD-DDTDD:DD:DD.DDDZ"].map((c) => (c === "D" ? "0123456789" : c));

/**
 * Exactly the cursors the service accepts: the base64url (unpadded) of `created_at|id`, where
 * `created_at` has the shape above and `id` is one or more bytes.
 */
export const CURSOR_PATTERN = new RegExp(base64urlPattern(CREATED_AT_SHAPE, "|"));

/** A page position: clients pass `next_cursor` back unchanged; anything else is 422. */
export const CursorSchema = z.string().max(400).regex(CURSOR_PATTERN, "is not a valid cursor").openapi({
  description:
    "Opaque page position: pass `next_cursor` back unchanged. It is the base64url without padding of `created_at|id` of the last item served, `created_at` as `YYYY-MM-DDTHH:MM:SS.sssZ` (e.g. `2026-11-24T10:00:00.000Z|evt_…`); the pattern admits exactly the cursors accepted, anything else is 422.",
  example: "MjAyNi0xMS0yNFQxMDowMDowMC4wMDBafGV2dF8wYjVlOGE1Mi00YzFlLTRmN2EtOWE0ZS0yZDZmMWMzYjdlOTA",
});

const auditFilters = {
  makerspace_id: MakerspaceIdSchema.optional(),
  user_id: UserIdSchema.optional(),
  skill_id: IdSchema.optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  performed_by: UserIdSchema.optional(),
  since: TimestampSchema.optional().openapi({ description: "Inclusive lower bound on `created_at`" }),
  until: TimestampSchema.optional().openapi({
    description: "Inclusive upper bound on `created_at`. Must not be before `since` (422 naming `until`).",
  }),
};

const sinceNotAfterUntil: [(q: { since?: string; until?: string }) => boolean, { message: string; path: string[] }] = [
  (q) => !q.since || !q.until || q.since <= q.until,
  { message: "must not be before since", path: ["until"] },
];

export const AuditLogQuerySchema = z
  .strictObject({
    ...auditFilters,
    limit: queryInt(1, 200).default(50),
    cursor: CursorSchema.optional(),
  })
  .refine(...sinceNotAfterUntil);
export type AuditLogQuery = z.infer<typeof AuditLogQuerySchema>;

export const AuditLogSchema = z
  .object({
    id: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    user_id: z.string().nullable(),
    skill_id: z.string().nullable(),
    makerspace_id: z.string(),
    performed_by: z.string().nullable(),
    reason: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi("AuditLog");
export type AuditLog = z.infer<typeof AuditLogSchema>;

export const AuditLogPageSchema = z
  .object({
    items: z.array(AuditLogSchema),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` for the next (older) page; null on the last page" }),
  })
  .openapi("AuditLogPage");
export type AuditLogPage = z.infer<typeof AuditLogPageSchema>;

/** The export reads every matching event of one makerspace: the list's filters without paging. */
export const AuditExportQuerySchema = z
  .strictObject({
    ...auditFilters,
    makerspace_id: MakerspaceIdSchema.optional().openapi({
      description: "Required from `super_admin`: the makerspace to export (others export their own).",
    }),
  })
  .refine(...sinceNotAfterUntil);
export type AuditExportQuery = z.infer<typeof AuditExportQuerySchema>;
