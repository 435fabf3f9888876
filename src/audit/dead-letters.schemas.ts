import { z } from "@hono/zod-openapi";
import { IdSchema, MakerspaceIdSchema, queryInt } from "../http/common.schemas";
import { CursorSchema } from "./audit.schemas";
import { AuditEventSchema } from "./events";

export const DeadLetterQuerySchema = z.strictObject({
  makerspace_id: MakerspaceIdSchema.optional(),
  limit: queryInt(1, 200).default(50),
  cursor: CursorSchema.optional(),
});
export const DeadLetterParamSchema = z.strictObject({ id: IdSchema });

export type DeadLetterQuery = z.infer<typeof DeadLetterQuerySchema>;

export const DeadLetterSchema = z
  .object({
    id: z.string(),
    action: z.string().nullable(),
    makerspace_id: z.string().nullable(),
    reason: z.string(),
    attempts: z.number().int(),
    created_at: z.string(),
    failed_at: z.string(),
    /** The event as it would be written; null when the stored payload cannot be read. */
    event: AuditEventSchema.nullable(),
    /** The stored text, given only when it cannot be read as an event. */
    payload: z.string().optional(),
  })
  .openapi("DeadLetter");
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

export const DeadLetterPageSchema = z
  .object({ items: z.array(DeadLetterSchema), next_cursor: z.string().nullable() })
  .openapi("DeadLetterPage");
export type DeadLetterPage = z.infer<typeof DeadLetterPageSchema>;

export const DeadLetterRetriedSchema = z
  .object({ id: z.string(), requeued: z.literal(true) })
  .openapi("DeadLetterRetried");
export type DeadLetterRetried = z.infer<typeof DeadLetterRetriedSchema>;
