import { z } from "zod";
import { AUDIT_ACTIONS } from "../audit/events";
import { IdSchema, MakerspaceIdSchema, TimestampSchema, UserIdSchema } from "./common";

/** A page position: base64url of `created_at|id` of the last item served. Opaque to clients. */
export const CursorSchema = z
  .string()
  .max(400)
  .regex(/^[A-Za-z0-9_-]+$/, "is not a valid cursor");

export const AuditLogQuerySchema = z
  .object({
    makerspace_id: MakerspaceIdSchema.optional(),
    user_id: UserIdSchema.optional(),
    skill_id: IdSchema.optional(),
    action: z.enum(AUDIT_ACTIONS).optional(),
    performed_by: UserIdSchema.optional(),
    /** Inclusive. */
    since: TimestampSchema.optional(),
    /** Inclusive. */
    until: TimestampSchema.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: CursorSchema.optional(),
  })
  .refine((q) => !q.since || !q.until || q.since <= q.until, {
    message: "must not be before since",
    path: ["until"],
  });
export type AuditLogQuery = z.infer<typeof AuditLogQuerySchema>;

export const AuditLogSchema = z.object({
  id: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  user_id: z.string().nullable(),
  skill_id: z.string().nullable(),
  makerspace_id: z.string(),
  performed_by: z.string().nullable(),
  reason: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});
export type AuditLog = z.infer<typeof AuditLogSchema>;

export const AuditLogPageSchema = z.object({
  items: z.array(AuditLogSchema),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: z.string().nullable(),
});
export type AuditLogPage = z.infer<typeof AuditLogPageSchema>;
