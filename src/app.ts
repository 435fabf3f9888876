import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./context";
import { validationError } from "./lib/errors";
import { toFieldErrors } from "./lib/validate";
import { authenticate } from "./middleware/auth";
import { enforceScope } from "./middleware/authorize";
import { bodyLimits } from "./middleware/body-limits";
import { cors } from "./middleware/cors";
import { fixedPathMethods, notFoundOrMethodNotAllowed, onError } from "./middleware/errors";
import { jsonBody } from "./middleware/json-body";
import { requestContext, requestDeps } from "./middleware/request-context";
import { consistencyToken, routeByRequest } from "./middleware/shard-routing";
import { accessRoutes, requirementsRoutes } from "./routes/access";
import { allowlistRoutes, jwksRoutes } from "./routes/allowlists";
import { auditLogRoutes } from "./routes/audit-logs";
import { badgeRoutes } from "./routes/badges";
import { deviceRoutes } from "./routes/devices";
import { equipmentRoutes } from "./routes/equipment";
import { instructorRoutes, skillInstructorRoutes } from "./routes/instructors";
import { kioskRoutes } from "./routes/kiosk";
import { requestRoutes } from "./routes/requests";
import { skillRoutes } from "./routes/skills";
import { systemRoutes } from "./routes/system";
import { userSkillTransferRoutes } from "./routes/user-skill-transfers";
import { userSkillRoutes } from "./routes/user-skills";
import { webhookRoutes } from "./routes/webhooks";

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
    .route("/api/v1/instructors", instructorRoutes)
    .route("/api/v1/skills", skillInstructorRoutes)
    .route("/api/v1/skills", skillRoutes);
}

/** The app's type with every route: what `hc` (src/client.ts) is typed from. */
export type AppType = ReturnType<typeof buildApp>;

export const app = buildApp();
