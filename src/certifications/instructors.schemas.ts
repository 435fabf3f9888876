import { z } from "@hono/zod-openapi";
import { IdSchema, MakerspaceIdSchema, paging, UserIdSchema } from "../http/common.schemas";

export const InstructorParamSchema = z.strictObject({ id: IdSchema, user_id: UserIdSchema });

export const InstructorListQuerySchema = z.strictObject({ ...paging() });

export const InstructorSearchQuerySchema = z.strictObject({
  user_id: UserIdSchema.optional(),
  skill_id: IdSchema.optional(),
  makerspace_id: MakerspaceIdSchema.optional(),
  ...paging(),
});
export type InstructorSearchQuery = z.infer<typeof InstructorSearchQuerySchema>;

/** A member assigned to certify others in a skill. */
export const InstructorSchema = z
  .object({
    user_id: z.string(),
    skill_id: z.string(),
    skill_name: z.string(),
    makerspace_id: z.string(),
    created_at: z.string(),
    created_by: z.string(),
  })
  .openapi("Instructor");
export type Instructor = z.infer<typeof InstructorSchema>;
