import { z } from "zod";
import type { AuditAction } from "../audit/events";

/** What a webhook may subscribe to. `webhook.test` is sent on request to any webhook. */
export const SUBSCRIBABLE_EVENTS = [
  "certification.granted",
  "certification.renewed",
  "certification.revoked",
  "certification.expired",
  "certification.expiring",
  "request.created",
  "request.reviewed",
  "access.denied",
] as const;
export const WEBHOOK_EVENT_TYPES = [...SUBSCRIBABLE_EVENTS, "webhook.test"] as const;
export type SubscribableEvent = (typeof SUBSCRIBABLE_EVENTS)[number];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The audit action each webhook event is derived from: webhooks are fed by the audit queue's
 * consumer, so every change that is audited can reach them and nothing else can.
 * (`certification.expiring` comes from the daily cron, `webhook.test` from its route.)
 */
export const EVENT_OF_ACTION: Partial<Record<AuditAction, SubscribableEvent>> = {
  skill_granted: "certification.granted",
  skill_renewed: "certification.renewed",
  skill_revoked: "certification.revoked",
  skill_expired: "certification.expired",
  request_created: "request.created",
  request_approved: "request.reviewed",
  request_rejected: "request.reviewed",
  access_denied: "access.denied",
};

/** The body of every delivery. `id` is the `webhook-id` header too: the same on every attempt. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  created_at: string;
  makerspace_id: string;
  data: Record<string, unknown>;
}

/**
 * One message on the webhook queue: one event for one webhook. The body is serialised once, when
 * the event is fanned out, so every attempt sends the same bytes.
 */
export const WebhookJobSchema = z.object({
  v: z.literal(1),
  webhook_id: z.string().min(1),
  event_id: z.string().min(1),
  event_type: z.enum(WEBHOOK_EVENT_TYPES),
  body: z.string(),
  /** When the event was first queued: retries stop 24 h after it. */
  enqueued_at: z.string(),
  /** A test is delivered even to an inactive webhook (to check an endpoint before re-enabling it). */
  test: z.boolean().optional(),
});
export type WebhookJob = z.infer<typeof WebhookJobSchema>;

export function jobFor(webhookId: string, event: WebhookEvent, enqueuedAt: string, test = false): WebhookJob {
  return {
    v: 1,
    webhook_id: webhookId,
    event_id: event.id,
    event_type: event.type,
    body: JSON.stringify(event),
    enqueued_at: enqueuedAt,
    ...(test ? { test: true } : {}),
  };
}
