import { z } from "zod";
import { BadgeUidSchema } from "./badges";
import { MakerspaceIdSchema, UserIdSchema } from "./common";
import { EquipmentIdSchema } from "./equipment";
import { SKILL_LEVELS } from "./skills";

export const ConsistencySchema = z.enum(["cached", "strong"]).default("cached");

export const AccessParamSchema = z.object({ equipment_id: EquipmentIdSchema });

export const AccessQuerySchema = z.object({
  user_id: UserIdSchema.optional(),
  consistency: ConsistencySchema,
});

/** Exactly one of `user_id` or `badge_uid` (a card, resolved to its member; API.md section 8). */
export const VerifyBodySchema = z
  .object({ user_id: UserIdSchema.optional(), badge_uid: BadgeUidSchema.optional() })
  .superRefine((v, ctx) => {
    if (v.user_id === undefined && v.badge_uid === undefined) {
      ctx.addIssue({ code: "custom", path: ["user_id"], message: "user_id or badge_uid is required" });
    } else if (v.user_id !== undefined && v.badge_uid !== undefined) {
      ctx.addIssue({ code: "custom", path: ["badge_uid"], message: "give user_id or badge_uid, not both" });
    }
  });
export type VerifyBody = z.infer<typeof VerifyBodySchema>;

export const BulkAccessQuerySchema = z.object({
  user_id: UserIdSchema.optional(),
  makerspace_id: MakerspaceIdSchema.optional(),
  consistency: ConsistencySchema,
});

export const RequirementsQuerySchema = z.object({ makerspace_id: MakerspaceIdSchema.optional() });

export const AccessResultSchema = z.object({
  equipment_id: z.string(),
  equipment_name: z.string(),
  user_id: z.string(),
  can_access: z.boolean(),
  user_skills: z.array(z.string()),
  missing_skills: z.array(z.string()),
  reason: z.string(),
});
export type AccessResult = z.infer<typeof AccessResultSchema>;

export const BulkAccessSchema = z.object({
  user_id: z.string(),
  makerspace_id: z.string(),
  equipment_access: z.array(
    z.object({
      equipment_id: z.string(),
      equipment_name: z.string(),
      can_access: z.boolean(),
      user_skills: z.array(z.string()),
      missing_skills: z.array(z.string()),
    }),
  ),
  summary: z.object({
    total_equipment: z.number().int(),
    accessible_equipment: z.number().int(),
    access_percentage: z.number(),
  }),
});
export type BulkAccess = z.infer<typeof BulkAccessSchema>;

export const EquipmentRequirementsSchema = z.array(
  z.object({
    equipment_id: z.string(),
    equipment_name: z.string(),
    required_skills: z.array(
      z.object({
        skill_id: z.string(),
        skill_name: z.string(),
        skill_level: z.enum(SKILL_LEVELS),
        required_level: z.enum(SKILL_LEVELS),
        category: z.string(),
        is_required: z.boolean(),
      }),
    ),
  }),
);
export type EquipmentRequirementsList = z.infer<typeof EquipmentRequirementsSchema>;

/** Why a `verify` was denied, in order of precedence (the first that applies wins). */
export const DENIALS = ["equipment_unavailable", "unknown_badge", "missing_skills"] as const;
export type Denial = (typeof DENIALS)[number];

export const InsufficientSkillsSchema = z.object({
  detail: z.string(),
  status_code: z.literal(403),
  error_type: z.literal("insufficient_skills"),
  missing_skills: z.array(z.string()),
  /** The human sentence, as in an allowed answer (equals `detail`). */
  reason: z.string(),
  /** A stable code for controllers: maintenance or retired, unknown card, or missing skills. */
  denial: z.enum(DENIALS),
});
