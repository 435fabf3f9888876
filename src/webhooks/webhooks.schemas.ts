import { z } from "@hono/zod-openapi";
import { CursorSchema } from "../audit/audit.schemas";
import { MakerspaceIdSchema, paging } from "../http/common.schemas";
import { SUBSCRIBABLE_EVENTS, WEBHOOK_EVENT_TYPES } from "./events";
import { MAX_WEBHOOK_URL_LENGTH } from "./url-guard";

/** Webhooks per makerspace: each event is sent to each of them. */
export const MAX_WEBHOOKS_PER_MAKERSPACE = 20;

export const WebhookUrlSchema = z
  .url({ message: "must be an absolute URL" })
  .max(MAX_WEBHOOK_URL_LENGTH, `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
  .openapi({
    description:
      "Where events are POSTed: `https` to a public host (no credentials, private or loopback addresses, `localhost`, `*.internal`, `*.local`, single-label names). Plain `http` to `127.0.0.1` or `localhost` only where `ALLOW_UNREGISTERED_DEVICES=true` (local development).",
    example: "https://hooks.example.org/makrcave",
  });

const EventsSchema = z
  .array(z.enum(SUBSCRIBABLE_EVENTS))
  .min(1, "at least one event")
  .max(SUBSCRIBABLE_EVENTS.length)
  .transform((events) => [...new Set(events)])
  .openapi({ description: "The events to receive (`webhook.test` is sent on request, whatever this lists)" });

const DescriptionSchema = z.string().trim().max(500, "must be at most 500 characters");

export const WebhookCreateSchema = z
  .strictObject({
    url: WebhookUrlSchema,
    events: EventsSchema,
    makerspace_id: MakerspaceIdSchema,
    description: DescriptionSchema.nullish(),
  })
  .openapi("WebhookCreate");
export type WebhookCreate = z.infer<typeof WebhookCreateSchema>;

export const WebhookUpdateSchema = z
  .strictObject({
    url: WebhookUrlSchema.optional(),
    events: EventsSchema.optional(),
    active: z
      .boolean()
      .optional()
      .openapi({ description: "`true` re-enables a disabled webhook (its failure clock restarts)" }),
    description: DescriptionSchema.nullish(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: "must change at least one field" })
  .openapi("WebhookUpdate");
export type WebhookUpdate = z.infer<typeof WebhookUpdateSchema>;

export const WebhookListQuerySchema = z.strictObject({
  makerspace_id: MakerspaceIdSchema.optional(),
  active: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  ...paging(),
});
export type WebhookListQuery = z.infer<typeof WebhookListQuerySchema>;

export const WebhookSchema = z
  .object({
    id: z.string(),
    makerspace_id: z.string(),
    url: z.string(),
    events: z.array(z.enum(SUBSCRIBABLE_EVENTS)),
    description: z.string().nullable(),
    active: z.boolean(),
    failing_since: z
      .string()
      .nullable()
      .openapi({ description: "The first failed attempt since the last success; 3 days on, `active` becomes false" }),
    created_by: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Webhook");
export type Webhook = z.infer<typeof WebhookSchema>;

export const WebhookCreatedSchema = z
  .object({
    webhook: WebhookSchema,
    secret: z.string().openapi({
      description:
        "The signing secret (`whsec_…`), shown this once: verify deliveries with any Standard Webhooks library",
    }),
  })
  .openapi("WebhookCreated");

export const DeliveryQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: CursorSchema.optional(),
});
export type DeliveryQuery = z.infer<typeof DeliveryQuerySchema>;

export const DeliverySchema = z
  .object({
    id: z.string(),
    event_id: z.string().openapi({ description: "The event's id: its `webhook-id` header, the same on every attempt" }),
    event_type: z.enum(WEBHOOK_EVENT_TYPES),
    attempt: z.number().int(),
    status_code: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The receiver's status; null when it did not answer" }),
    error: z.string().nullable().openapi({ description: "Null when the receiver answered 2xx" }),
    duration_ms: z.number().int().nullable(),
    delivered_at: z.string().openapi({ description: "When this attempt was made" }),
    next_attempt_at: z
      .string()
      .nullable()
      .openapi({ description: "When it is tried again; null after a success or the last try" }),
  })
  .openapi("WebhookDelivery");
export type Delivery = z.infer<typeof DeliverySchema>;

export const DeliveryPageSchema = z
  .object({ items: z.array(DeliverySchema), next_cursor: z.string().nullable() })
  .openapi("WebhookDeliveryPage");
export type DeliveryPage = z.infer<typeof DeliveryPageSchema>;

export const WebhookEventSchema = z
  .object({
    id: z.string(),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    created_at: z.string(),
    makerspace_id: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi("WebhookEvent");
