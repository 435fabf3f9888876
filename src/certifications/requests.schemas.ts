import { z } from "@hono/zod-openapi";
import { IdSchema, MakerspaceIdSchema, paging, TimestampSchema, UserIdSchema } from "../http/common.schemas";
import { NotesSchema, QuizScoreSchema } from "./certifications.schemas";

export const REQUEST_STATUSES = ["pending", "approved", "rejected"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const RequestCreateSchema = z
  .strictObject({
    skill_id: IdSchema,
    reason: z.string().max(1000, "must be at most 1000 characters").nullish(),
    notes: NotesSchema.nullish(),
    user_id: UserIdSchema.optional().openapi({
      description:
        "Required from `kiosk`: whom the request is for. Optional for admins (default themselves); a member may name only itself.",
    }),
  })
  .openapi("SkillRequestCreate");
export type RequestCreate = z.infer<typeof RequestCreateSchema>;

export const RequestReviewSchema = z
  .strictObject({
    status: z.enum(["approved", "rejected"]),
    notes: NotesSchema.nullish(),
    quiz_score: QuizScoreSchema.nullish(),
    expires_at: TimestampSchema.nullish(),
  })
  .openapi("SkillRequestReview");
export type RequestReview = z.infer<typeof RequestReviewSchema>;

export const RequestListQuerySchema = z.strictObject({
  status: z.enum(REQUEST_STATUSES).optional(),
  user_id: UserIdSchema.optional(),
  skill_id: IdSchema.optional(),
  makerspace_id: MakerspaceIdSchema.optional(),
  ...paging(),
});
export type RequestListQuery = z.infer<typeof RequestListQuerySchema>;

export const SkillRequestSchema = z
  .object({
    id: z.string(),
    user_id: z.string(),
    skill_id: z.string(),
    skill_name: z.string(),
    makerspace_id: z.string(),
    status: z.enum(REQUEST_STATUSES),
    reason: z.string().nullable(),
    notes: z.string().nullable(),
    reviewed_by: z.string().nullable(),
    reviewed_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("SkillRequest");
export type SkillRequest = z.infer<typeof SkillRequestSchema>;
