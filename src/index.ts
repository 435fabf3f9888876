import { app } from "./app";
import { handleAuditQueue } from "./audit/consumer";
import { handleScheduled } from "./cron/scheduled";
import { handleWebhookQueue } from "./webhooks/deliver";

/** The webhook queue of every environment (`makrcave-webhooks`, `-staging`, `-production`). */
const isWebhookQueue = (name: string) => name.startsWith("makrcave-webhooks");

/** The Worker: HTTP API, the audit and webhook queues' consumer, and scheduled maintenance. */
export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: (batch, env, ctx) =>
    isWebhookQueue(batch.queue) ? handleWebhookQueue(batch, env, ctx) : handleAuditQueue(batch, env, ctx),
  scheduled: (controller, env, ctx) => handleScheduled(controller, env, ctx),
} satisfies ExportedHandler<Env, unknown>;
