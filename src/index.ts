import { app } from "./app";
import type { AuditEvent } from "./audit/events";

/** The Worker: HTTP API, audit-queue consumer and scheduled maintenance. */
export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env, AuditEvent>;
