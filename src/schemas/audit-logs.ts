import { z } from "@hono/zod-openapi";
import { AUDIT_ACTIONS } from "../audit/events";
import { IdSchema, MakerspaceIdSchema, TimestampSchema, UserIdSchema } from "./common";

/**
 * A page position: the base64url (unpadded) of `created_at|id` of the last item served. Clients
 * pass it back unchanged; one this service did not produce is 422.
 */
export const CursorSchema = z
  .string()
  .max(400)
  .regex(/^[A-Za-z0-9_-]+$/, "is not a valid cursor")
  .openapi({
    description:
      "Opaque page position from `next_cursor`: base64url without padding of `created_at|id` of the last item served, e.g. `2026-11-24T10:00:00.000Z|evt_…`. Anything else is 422.",
    example: "MjAyNi0xMS0yNFQxMDowMDowMC4wMDBafGV2dF8wYjVlOGE1Mi00YzFlLTRmN2EtOWE0ZS0yZDZmMWMzYjdlOTA",
  });

const auditFilters = {
  makerspace_id: MakerspaceIdSchema.optional(),
  user_id: UserIdSchema.optional(),
  skill_id: IdSchema.optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  performed_by: UserIdSchema.optional(),
  since: TimestampSchema.optional().openapi({ description: "Inclusive lower bound on `created_at`" }),
  until: TimestampSchema.optional().openapi({ description: "Inclusive upper bound on `created_at`" }),
};

const sinceNotAfterUntil: [(q: { since?: string; until?: string }) => boolean, { message: string; path: string[] }] = [
  (q) => !q.since || !q.until || q.since <= q.until,
  { message: "must not be before since", path: ["until"] },
];

export const AuditLogQuerySchema = z
  .strictObject({
    ...auditFilters,
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: CursorSchema.optional(),
  })
  .refine(...sinceNotAfterUntil);
export type AuditLogQuery = z.infer<typeof AuditLogQuerySchema>;

/** The export reads every matching event: the list's filters without paging. */
export const AuditExportQuerySchema = z.strictObject(auditFilters).refine(...sinceNotAfterUntil);
export type AuditExportQuery = z.infer<typeof AuditExportQuerySchema>;

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
