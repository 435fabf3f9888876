import { z } from "@hono/zod-openapi";
import { MakerspaceIdSchema, paging, trimmedString } from "../http/common.schemas";

export const EQUIPMENT_STATUSES = ["available", "maintenance", "retired"] as const;
export type EquipmentStatus = (typeof EQUIPMENT_STATUSES)[number];

export const EquipmentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of letters, digits, _ . : -");

const name = trimmedString(200, { empty: "must not be empty", long: "must be at most 200 characters" });
const category = z.string().trim().max(50, "must be at most 50 characters");
const location = z.string().trim().max(200, "must be at most 200 characters");

export const EquipmentCreateSchema = z
  .strictObject({
    id: EquipmentIdSchema.optional(),
    name,
    makerspace_id: MakerspaceIdSchema,
    category: category.nullish(),
    location: location.nullish(),
    status: z.enum(EQUIPMENT_STATUSES).optional(),
  })
  .openapi("EquipmentCreate");
export type EquipmentCreate = z.infer<typeof EquipmentCreateSchema>;

export const EquipmentUpdateSchema = z
  .strictObject({
    name: name.optional(),
    category: category.nullish(),
    location: location.nullish(),
    status: z.enum(EQUIPMENT_STATUSES).optional(),
  })
  // Only a body that is otherwise valid is checked for emptiness, so `{ id }` is named as unknown alone.
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message: "at least one field is required",
    when: (payload) => payload.issues.length === 0,
  })
  .openapi("EquipmentUpdate", { minProperties: 1 });
export type EquipmentUpdate = z.infer<typeof EquipmentUpdateSchema>;

export const EquipmentListQuerySchema = z.strictObject({
  makerspace_id: MakerspaceIdSchema.optional(),
  status: z.enum(EQUIPMENT_STATUSES).optional(),
  ...paging(),
});
export type EquipmentListQuery = z.infer<typeof EquipmentListQuerySchema>;

export const EquipmentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    makerspace_id: z.string(),
    category: z.string().nullable(),
    location: z.string().nullable(),
    status: z.enum(EQUIPMENT_STATUSES),
    required_skill_ids: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Equipment");
export type Equipment = z.infer<typeof EquipmentSchema>;
