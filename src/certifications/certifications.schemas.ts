import { z } from "@hono/zod-openapi";
import { IdSchema, MakerspaceIdSchema, paging, queryInt, TimestampSchema, UserIdSchema } from "../http/common.schemas";

export const USER_SKILL_STATUSES = ["pending", "certified", "expired", "revoked"] as const;
export type UserSkillStatus = (typeof USER_SKILL_STATUSES)[number];

export const NotesSchema = z.string().max(1000, "must be at most 1000 characters");

/** Hundredths: with the bounds below, every accepted number's text fits the 10 characters. */
const SCORE_STEP = 0.01;

/**
 * The design stores scores as VARCHAR(10) ("95%"); a number is accepted and kept as text. The
 * number is bounded to what fits: two decimals at most, under a million either side ("-999999.99").
 */
export const QuizScoreSchema = z
  .union([
    z.string().trim().max(10, "must be at most 10 characters"),
    z
      .number()
      .min(-999_999.99, "must be at least -999999.99")
      .max(999_999.99, "must be at most 999999.99")
      .multipleOf(SCORE_STEP, "must have at most two decimals")
      // The document generator leaves `multipleOf` out; stated here so the document is exact.
      .openapi({ multipleOf: SCORE_STEP }),
  ])
  .transform((v) => String(v))
  .pipe(z.string().max(10, "must be at most 10 characters"));

export const ReasonSchema = z.string().trim().max(500, "must be at most 500 characters");

export const UserSkillGrantSchema = z
  .strictObject({
    user_id: UserIdSchema,
    skill_id: IdSchema,
    status: z.enum(["certified", "pending"]).default("certified"),
    notes: NotesSchema.nullish(),
    quiz_score: QuizScoreSchema.nullish(),
    expires_at: TimestampSchema.nullish().openapi({
      description: "Absent or null: now + SKILL_CERTIFICATION_EXPIRY_DAYS. A past value is allowed (imports).",
    }),
  })
  .openapi("UserSkillGrant");
export type UserSkillGrant = z.infer<typeof UserSkillGrantSchema>;

export const UserSkillListQuerySchema = z.strictObject({
  user_id: UserIdSchema.optional(),
  skill_id: IdSchema.optional(),
  status: z
    .enum(USER_SKILL_STATUSES)
    .optional()
    .openapi({ description: "Matches the effective status (a certified row past `expires_at` is `expired`)" }),
  makerspace_id: MakerspaceIdSchema.optional(),
  expiring_within_days: queryInt(1, 3650)
    .optional()
    .openapi({ description: "Certified, unexpired rows whose `expires_at` falls within the next N days" }),
  ...paging(),
});
export type UserSkillListQuery = z.infer<typeof UserSkillListQuerySchema>;

export const RevokeQuerySchema = z.strictObject({ reason: ReasonSchema.optional() });
/** Optional as a whole: a revoke without a body reads as `{}`. A reason here wins over the query's. */
export const RevokeBodySchema = z.strictObject({ reason: ReasonSchema.nullish() }).openapi("UserSkillRevoke");

export const UserSkillSchema = z
  .object({
    id: z.string(),
    user_id: z.string(),
    skill_id: z.string(),
    skill_name: z.string(),
    makerspace_id: z.string(),
    status: z.enum(USER_SKILL_STATUSES),
    certified_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    certified_by: z.string().nullable(),
    notes: z.string().nullable(),
    quiz_score: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("UserSkill");
export type UserSkill = z.infer<typeof UserSkillSchema>;
