import { app } from "./app";
import { handleAuditQueue } from "./audit/consumer";
import type { AuditEvent } from "./audit/events";
import { handleScheduled } from "./cron/scheduled";

/** The Worker: HTTP API, audit-queue consumer and scheduled maintenance. */
export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: (batch, env, ctx) => handleAuditQueue(batch, env, ctx),
  scheduled: (controller, env, ctx) => handleScheduled(controller, env, ctx),
} satisfies ExportedHandler<Env, AuditEvent>;
