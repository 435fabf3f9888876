import { z } from "@hono/zod-openapi";
import { ValidityInputSchema, ValiditySchema } from "../certifications/validity.schemas";
import {
  IdArraySchema,
  IdSchema,
  MakerspaceIdSchema,
  NO_OUTER_SPACE,
  paging,
  trimmedString,
} from "../http/common.schemas";

export const SKILL_LEVELS = ["beginner", "intermediate", "advanced", "expert"] as const;
export const SKILL_STATUSES = ["active", "inactive", "archived"] as const;
export type SkillLevel = (typeof SKILL_LEVELS)[number];
export type SkillStatus = (typeof SKILL_STATUSES)[number];

// The document has one `pattern` per schema: the character set is the name's, trimming rides in an allOf.
const name = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters")
  .regex(/^[a-zA-Z0-9\s-]+$/, "may contain only letters, digits, spaces and hyphens")
  .openapi({ allOf: [{ pattern: NO_OUTER_SPACE }] });
const category = trimmedString(50, { empty: "must not be empty", long: "must be at most 50 characters" });
const description = z.string().max(1000, "must be at most 1000 characters");

export const SkillCreateSchema = z
  .strictObject({
    name,
    category,
    level: z.enum(SKILL_LEVELS),
    description: description.nullish(),
    status: z.enum(SKILL_STATUSES).optional(),
    makerspace_id: MakerspaceIdSchema,
    prerequisite_ids: IdArraySchema.optional(),
    equipment_ids: IdArraySchema.optional(),
    validity: ValidityInputSchema.nullish().openapi({
      description: "Absent or null: `duration` of SKILL_CERTIFICATION_EXPIRY_DAYS days",
    }),
  })
  .openapi("SkillCreate");
export type SkillCreate = z.infer<typeof SkillCreateSchema>;

export const SkillUpdateSchema = z
  .strictObject({
    name: name.optional(),
    category: category.optional(),
    level: z.enum(SKILL_LEVELS).optional(),
    description: description.nullish(),
    status: z.enum(SKILL_STATUSES).optional(),
    prerequisite_ids: IdArraySchema.optional(),
    equipment_ids: IdArraySchema.optional(),
    validity: ValidityInputSchema.nullish().openapi({
      description: "Applies to later grants and renewals only; null returns to the configured default",
    }),
  })
  // Only a body that is otherwise valid is checked for emptiness, so `{ makerspace_id }` is named as unknown alone.
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message: "at least one field is required",
    when: (payload) => payload.issues.length === 0,
  })
  .openapi("SkillUpdate", { minProperties: 1 });
export type SkillUpdate = z.infer<typeof SkillUpdateSchema>;

export const SkillListQuerySchema = z.strictObject({
  makerspace_id: MakerspaceIdSchema.optional(),
  category: z.string().max(50).optional(),
  level: z.enum(SKILL_LEVELS).optional(),
  status: z.enum(SKILL_STATUSES).optional(),
  q: z
    .string()
    .max(100)
    .optional()
    .openapi({ description: "Names containing this text (ASCII letters in either case)" }),
  ...paging(),
});
export type SkillListQuery = z.infer<typeof SkillListQuerySchema>;

export const SkillSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    category: z.string(),
    level: z.enum(SKILL_LEVELS),
    description: z.string().nullable(),
    status: z.enum(SKILL_STATUSES),
    makerspace_id: z.string(),
    prerequisite_ids: z.array(z.string()),
    equipment_ids: z.array(z.string()),
    validity: ValiditySchema,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Skill");
export type Skill = z.infer<typeof SkillSchema>;
