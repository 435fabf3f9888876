import { z } from "zod";
import { DEVICE_KINDS } from "../auth/principal";
import { IdSchema, MakerspaceIdSchema, paging } from "./common";
import { EquipmentIdSchema } from "./equipment";

export const DEVICE_STATUSES = ["active", "revoked"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** At most 100 items (the documented limit), checked against the makerspace in one statement. */
export const DeviceEquipmentIdsSchema = z
  .array(EquipmentIdSchema)
  .max(100, "at most 100 ids")
  .transform((ids) => [...new Set(ids)].sort());

export const DeviceCreateSchema = z.object({
  name: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  kind: z.enum(DEVICE_KINDS),
  makerspace_id: MakerspaceIdSchema,
  equipment_ids: DeviceEquipmentIdsSchema.optional(),
});
export type DeviceCreate = z.infer<typeof DeviceCreateSchema>;

export const DeviceListQuerySchema = z.object({
  kind: z.enum(DEVICE_KINDS).optional(),
  status: z.enum(DEVICE_STATUSES).optional(),
  makerspace_id: MakerspaceIdSchema.optional(),
  ...paging(500, 200),
});
export type DeviceListQuery = z.infer<typeof DeviceListQuerySchema>;

export const DeviceParamSchema = z.object({ id: IdSchema });

export const HeartbeatBodySchema = z
  .object({
    firmware: z.string().trim().max(100, "must be at most 100 characters").nullish(),
    allowlist_version: z.string().trim().max(200, "must be at most 200 characters").nullish(),
  })
  .default({});
export type HeartbeatBody = z.infer<typeof HeartbeatBodySchema>;

export const DeviceSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(DEVICE_KINDS),
  makerspace_id: z.string(),
  equipment_ids: z.array(z.string()),
  status: z.enum(DEVICE_STATUSES),
  last_seen_at: z.string().nullable(),
  online: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Device = z.infer<typeof DeviceSchema>;

export const DeviceWithTokenSchema = z.object({ device: DeviceSchema, token: z.string() });

export const HeartbeatSchema = z.object({
  server_time: z.string(),
  allowlist_versions: z.record(z.string(), z.string()),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;
