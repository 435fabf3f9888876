import { OpenAPIHono } from "@hono/zod-openapi";
import { accessRoutes, requirementsRoutes } from "./access/access.routes";
import { allowlistRoutes, jwksRoutes } from "./access/allowlists.routes";
import { auditLogRoutes } from "./audit/audit.routes";
import { equipmentRoutes } from "./catalogue/equipment.routes";
import { skillRoutes } from "./catalogue/skills.routes";
import { userSkillRoutes } from "./certifications/certifications.routes";
import { userSkillTransferRoutes } from "./certifications/csv.routes";
import { instructorRoutes, skillInstructorRoutes } from "./certifications/instructors.routes";
import { requestRoutes } from "./certifications/requests.routes";
import { consoleRoutes, matrixRoutes, overviewRoutes } from "./console-support/console.routes";
import { badgeRoutes } from "./devices/badges.routes";
import { deviceRoutes } from "./devices/devices.routes";
import { authenticate } from "./http/auth";
import { enforceScope } from "./http/authorize";
import { bodyLimits } from "./http/body-limits";
import { cors } from "./http/cors";
import { fixedPathMethods, notFoundOrMethodNotAllowed, onError } from "./http/error-handler";
import { jsonBody } from "./http/json-body";
import { requestContext, requestDeps } from "./http/request-context";
import { consistencyToken, routeByRequest } from "./http/shard-routing";
import { systemRoutes } from "./http/system.routes";
import { kioskRoutes } from "./kiosk/kiosk.routes";
import type { AppEnv } from "./platform/context";
import { validationError } from "./platform/errors";
import { toFieldErrors } from "./platform/validate";
import { webhookRoutes } from "./webhooks/webhooks.routes";

/**
 * The HTTP app without its routes: every middleware, in order, and the one error exit. Routes
 * are matched with and without a trailing slash (`strict: false`). {@link buildApp} mounts the
 * API on it; a test can mount a route of its own and get the same authentication, budgets and
 * error bodies.
 */
export function baseApp() {
  const app = new OpenAPIHono<AppEnv>({
    strict: false,
    // Every route's validation ends here: failures leave as 422 through onError, each validated
    // part of the request is checked against the route's declared scope, and what it names
    // routes the request to its makerspace's shard.
    defaultHook: async (result, c) => {
      if (!result.success) throw validationError(toFieldErrors(result.error));
      enforceScope(c, result.target, result.data);
      await routeByRequest(c, result.target, result.data);
    },
  });
  app.use("*", requestContext);
  app.use("/api/*", cors);
  app.use("*", requestDeps);
  app.use("/api/*", consistencyToken);
  app.use("/api/*", bodyLimits);
  app.use("/api/*", authenticate);
  app.use("/api/*", jsonBody);
  // Only under /api can a `/:id` route take a fixed name; elsewhere notFound answers 405.
  app.use("/api/*", fixedPathMethods(app));
  app.onError(onError);
  app.notFound(notFoundOrMethodNotAllowed(app));
  return app;
}

/**
 * The HTTP app. Sub-apps under `/api/v1/skills/…` with fixed names are mounted before the skills
 * app, whose `/:id` would otherwise capture them.
 */
export function buildApp() {
  const app = baseApp();
  // One chained expression, so the app's type carries every route for the typed client.
  return app
    .route(
      "/",
      systemRoutes(() => app),
    )
    .route("/kiosk", kioskRoutes)
    .route("/admin", consoleRoutes)
    .route("/", jwksRoutes)
    .route("/api/v1/devices", deviceRoutes)
    .route("/api/v1/badges", badgeRoutes)
    .route("/api/v1/webhooks", webhookRoutes)
    .route("/api/v1/equipment", equipmentRoutes)
    .route("/api/v1/skills/access", allowlistRoutes)
    .route("/api/v1/skills/access", accessRoutes)
    .route("/api/v1/skills/equipment-requirements", requirementsRoutes)
    .route("/api/v1/skills/audit-logs", auditLogRoutes)
    .route("/api/v1/skills/user-skills", userSkillTransferRoutes)
    .route("/api/v1/skills/user-skills", userSkillRoutes)
    .route("/api/v1/skills/requests", requestRoutes)
    .route("/api/v1/skills/matrix", matrixRoutes)
    .route("/api/v1/makerspaces", overviewRoutes)
    .route("/api/v1/instructors", instructorRoutes)
    .route("/api/v1/skills", skillInstructorRoutes)
    .route("/api/v1/skills", skillRoutes);
}

/** The app's type with every route: what `hc` (src/client.ts) is typed from. */
export type AppType = ReturnType<typeof buildApp>;

export const app = buildApp();
