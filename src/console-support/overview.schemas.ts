import { z } from "@hono/zod-openapi";
import { MakerspaceIdSchema } from "../http/common.schemas";

export const OVERVIEW_ACTIVITY_ITEMS = 10;

export const OverviewParamSchema = z.strictObject({ makerspace_id: MakerspaceIdSchema });

const count = z.number().int().min(0);

export const OverviewSchema = z
  .object({
    makerspace_id: z.string(),
    generated_at: z.string(),
    counts: z.object({
      members: count.openapi({ description: "People with a certification or a request in the makerspace" }),
      certifications_in_force: count.openapi({ description: "Certified and unexpired (those expiring soon included)" }),
      expiring_30d: count.openapi({ description: "In force and expiring within 30 days" }),
      pending_requests: count,
      equipment_available: count,
      equipment_maintenance: count,
      equipment_retired: count,
      devices_offline: count.openapi({
        description: "Active devices without a heartbeat within 3 × DEVICE_HEARTBEAT_SECONDS (never seen included)",
      }),
    }),
    latest_activity: z
      .object({
        id: z.string(),
        action: z.string(),
        user_id: z.string().nullable(),
        skill_id: z.string().nullable(),
        performed_by: z.string().nullable(),
        reason: z.string().nullable(),
        created_at: z.string(),
      })
      .array()
      .openapi({ description: `The makerspace's ${OVERVIEW_ACTIVITY_ITEMS} latest audit events, newest first` }),
  })
  .openapi("MakerspaceOverview");
export type Overview = z.infer<typeof OverviewSchema>;
