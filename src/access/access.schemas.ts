import { z } from "@hono/zod-openapi";
import { EquipmentIdSchema } from "../catalogue/equipment.schemas";
import { SKILL_LEVELS } from "../catalogue/skills.schemas";
import { BadgeUidSchema } from "../devices/badges.schemas";
import { MakerspaceIdSchema, UserIdSchema } from "../http/common.schemas";

export const ConsistencySchema = z.enum(["cached", "strong"]).default("cached");

export const AccessParamSchema = z.strictObject({ equipment_id: EquipmentIdSchema });

/**
 * Whose access is checked. Optional in the schema because a member may leave it out; the
 * description says who must send it (the route answers 422 naming `user_id` otherwise).
 */
const SubjectSchema = UserIdSchema.optional().openapi({
  description:
    "Required from `device`, `makerspace_admin` and `super_admin`: the member whose access is checked. A member may leave it out (itself) and may name only itself.",
});

/** A makerspace a super_admin must name (it has none of its own); everyone else is held to their own. */
const OwnMakerspaceSchema = MakerspaceIdSchema.optional().openapi({
  description:
    "Required from `super_admin`. Everyone else may leave it out (their own makerspace) and may name only their own.",
});

export const AccessQuerySchema = z.strictObject({
  user_id: SubjectSchema,
  consistency: ConsistencySchema,
});

/** Exactly one of `user_id` or `badge_uid` (a card, resolved to its member in the equipment's makerspace). */
export const VerifyBodySchema = z
  .strictObject({ user_id: UserIdSchema.optional(), badge_uid: BadgeUidSchema.optional() })
  .superRefine((v, ctx) => {
    if (v.user_id === undefined && v.badge_uid === undefined) {
      ctx.addIssue({ code: "custom", path: ["user_id"], message: "user_id or badge_uid is required" });
    } else if (v.user_id !== undefined && v.badge_uid !== undefined) {
      ctx.addIssue({ code: "custom", path: ["badge_uid"], message: "give user_id or badge_uid, not both" });
    }
  })
  .openapi("VerifyBody", {
    description: "Exactly one of `user_id` or `badge_uid`",
    minProperties: 1,
    maxProperties: 1,
  });
export type VerifyBody = z.infer<typeof VerifyBodySchema>;

export const BulkAccessQuerySchema = z.strictObject({
  user_id: SubjectSchema,
  makerspace_id: OwnMakerspaceSchema,
  consistency: ConsistencySchema,
});

export const RequirementsQuerySchema = z.strictObject({ makerspace_id: OwnMakerspaceSchema });

export const AccessResultSchema = z
  .object({
    equipment_id: z.string(),
    equipment_name: z.string(),
    user_id: z.string(),
    can_access: z.boolean(),
    user_skills: z.array(z.string()),
    missing_skills: z.array(z.string()),
    reason: z.string(),
  })
  .openapi("AccessResult");
export type AccessResult = z.infer<typeof AccessResultSchema>;

export const EquipmentAccessSchema = z
  .object({
    equipment_id: z.string(),
    equipment_name: z.string(),
    can_access: z.boolean(),
    user_skills: z.array(z.string()),
    missing_skills: z.array(z.string()),
  })
  .openapi("EquipmentAccess");

export const BulkAccessSchema = z
  .object({
    user_id: z.string(),
    makerspace_id: z.string(),
    equipment_access: z.array(EquipmentAccessSchema),
    summary: z.object({
      total_equipment: z.number().int(),
      accessible_equipment: z.number().int(),
      access_percentage: z.number(),
    }),
  })
  .openapi("BulkAccess");
export type BulkAccess = z.infer<typeof BulkAccessSchema>;

export const RequiredSkillSchema = z
  .object({
    skill_id: z.string(),
    skill_name: z.string(),
    skill_level: z.enum(SKILL_LEVELS),
    required_level: z.enum(SKILL_LEVELS),
    category: z.string(),
    is_required: z.boolean(),
  })
  .openapi("RequiredSkill");

export const EquipmentRequirementSchema = z
  .object({
    equipment_id: z.string(),
    equipment_name: z.string(),
    required_skills: z.array(RequiredSkillSchema),
  })
  .openapi("EquipmentRequirement");

export const EquipmentRequirementsSchema = z.array(EquipmentRequirementSchema);
export type EquipmentRequirementsList = z.infer<typeof EquipmentRequirementsSchema>;

/** Why a `verify` was denied, in order of precedence (the first that applies wins). */
export const DENIALS = ["equipment_unavailable", "unknown_badge", "missing_skills"] as const;
export type Denial = (typeof DENIALS)[number];
