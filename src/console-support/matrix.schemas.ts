import { z } from "@hono/zod-openapi";
import { IdSchema, MakerspaceIdSchema, queryInt, trimmedString, UserIdSchema } from "../http/common.schemas";

/** The six states of a training-matrix cell, from the member's certification and requests. */
export const MATRIX_STATES = ["certified", "expiring", "expired", "revoked", "requested", "none"] as const;
export type MatrixState = (typeof MATRIX_STATES)[number];

/** Cells expire "soon" within this many days (the console's amber cells; the overview's count). */
export const EXPIRING_WITHIN_DAYS = 30;

export const MATRIX_MAX_LIMIT = 200;

export const MatrixQuerySchema = z.strictObject({
  makerspace_id: MakerspaceIdSchema.optional().openapi({
    description: "Required from `super_admin`; everyone else may leave it out (their own makerspace)",
  }),
  category: trimmedString(50, { empty: "is required", long: "must be at most 50 characters" })
    .optional()
    .openapi({ description: "Only skills of this category" }),
  skill_id: IdSchema.optional().openapi({
    description: "Only this skill (its column, and members who have a row of it)",
  }),
  q: trimmedString(100, { empty: "is required", long: "must be at most 100 characters" })
    .optional()
    .openapi({ description: "Members whose user id contains this, case-insensitive (≤ 100 characters)" }),
  limit: queryInt(1, MATRIX_MAX_LIMIT)
    .default(50)
    .openapi({ description: `Members per page (1–${MATRIX_MAX_LIMIT}, default 50)` }),
  cursor: UserIdSchema.optional().openapi({
    description: "`next_cursor` of the previous page (the `user_id` of its last row): the page starts after it",
  }),
});
export type MatrixQuery = z.infer<typeof MatrixQuerySchema>;

export const MatrixSkillSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    category: z.string(),
    level: z.enum(["beginner", "intermediate", "advanced", "expert"]),
    status: z.enum(["active", "inactive", "archived"]),
  })
  .openapi("MatrixSkill");

export const MatrixCellSchema = z
  .object({
    state: z.enum(MATRIX_STATES).exclude(["none"]),
    user_skill_id: z.string().nullable().openapi({ description: "The certification of this member and skill, if any" }),
    request_id: z.string().nullable().openapi({ description: "The member's pending request of this skill, if any" }),
    expires_at: z.string().nullable(),
  })
  .openapi("MatrixCell");

export const MatrixRowSchema = z
  .object({
    user_id: UserIdSchema,
    display_name: z.string().nullable(),
    cells: z.record(z.string(), MatrixCellSchema).openapi({
      description: "By skill id; a skill without a cell is `none` (no certification, no pending request)",
    }),
  })
  .openapi("MatrixRow");

export const MatrixSchema = z
  .object({
    makerspace_id: z.string(),
    generated_at: z.string(),
    skills: MatrixSkillSchema.array().openapi({ description: "The columns, by category then name" }),
    rows: MatrixRowSchema.array(),
    next_cursor: z.string().nullable(),
  })
  .openapi("TrainingMatrix");
export type Matrix = z.infer<typeof MatrixSchema>;
export type MatrixCell = z.infer<typeof MatrixCellSchema>;
