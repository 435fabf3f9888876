import { z } from "@hono/zod-openapi";
import { EquipmentIdSchema } from "../catalogue/equipment.schemas";
import { MakerspaceIdSchema, paging, trimmedString } from "../http/common.schemas";
import { DEVICE_KINDS } from "../identity/principal";

export const DEVICE_STATUSES = ["active", "revoked"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** At most 100 items (the documented limit), checked against the makerspace in one statement. */
export const DeviceEquipmentIdsSchema = z
  .array(EquipmentIdSchema)
  .max(100, "at most 100 ids")
  .transform((ids) => [...new Set(ids)].sort());

export const DeviceCreateSchema = z
  .strictObject({
    name: trimmedString(200, { empty: "must not be empty", long: "must be at most 200 characters" }),
    kind: z.enum(DEVICE_KINDS),
    makerspace_id: MakerspaceIdSchema,
    equipment_ids: DeviceEquipmentIdsSchema.optional().openapi({
      description: "The items the device may act for; absent or empty: every item of the makerspace",
    }),
  })
  .openapi("DeviceCreate");
export type DeviceCreate = z.infer<typeof DeviceCreateSchema>;

export const DeviceListQuerySchema = z.strictObject({
  kind: z.enum(DEVICE_KINDS).optional(),
  status: z.enum(DEVICE_STATUSES).optional(),
  makerspace_id: MakerspaceIdSchema.optional(),
  ...paging(500, 200),
});
export type DeviceListQuery = z.infer<typeof DeviceListQuerySchema>;

/** Optional as a whole: a heartbeat without a body reads as `{}`. */
export const HeartbeatBodySchema = z
  .strictObject({
    firmware: z.string().trim().max(100, "must be at most 100 characters").nullish(),
    allowlist_version: z.string().trim().max(200, "must be at most 200 characters").nullish(),
  })
  .openapi("HeartbeatBody");
export type HeartbeatBody = z.infer<typeof HeartbeatBodySchema>;

export const DeviceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(DEVICE_KINDS),
    makerspace_id: z.string(),
    equipment_ids: z.array(z.string()),
    status: z.enum(DEVICE_STATUSES),
    last_seen_at: z.string().nullable(),
    online: z.boolean().openapi({ description: "Active, with a heartbeat within 3 × DEVICE_HEARTBEAT_SECONDS" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Device");
export type Device = z.infer<typeof DeviceSchema>;

export const DeviceWithTokenSchema = z
  .object({ device: DeviceSchema, token: z.string().openapi({ description: "Shown once; only its `jti` is kept" }) })
  .openapi("DeviceWithToken");

export const HeartbeatSchema = z
  .object({
    server_time: z.string(),
    allowlist_versions: z
      .record(z.string(), z.string())
      .openapi({ description: "The current allow-list version of each item the device covers, by equipment id" }),
  })
  .openapi("Heartbeat");
export type Heartbeat = z.infer<typeof HeartbeatSchema>;
