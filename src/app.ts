import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { loadConfig } from "./config";
import type { AppEnv } from "./context";
import { AppError } from "./lib/errors";
import { authenticate } from "./middleware/auth";
import { fixedPathMethods, notFoundOrMethodNotAllowed, onError } from "./middleware/errors";
import { jsonBody } from "./middleware/json-body";
import { requestContext, requestDeps } from "./middleware/request-context";
import type { RouteDoc } from "./openapi/registry";
import { accessDocs, accessRoutes, requirementsRoutes } from "./routes/access";
import { allowlistDocs, allowlistRoutes, jwksRoutes } from "./routes/allowlists";
import { auditLogDocs, auditLogRoutes } from "./routes/audit-logs";
import { badgeDocs, badgeRoutes } from "./routes/badges";
import { deviceDocs, deviceRoutes } from "./routes/devices";
import { equipmentDocs, equipmentRoutes } from "./routes/equipment";
import { kioskDocs, kioskRoutes } from "./routes/kiosk";
import { requestDocs, requestRoutes } from "./routes/requests";
import { skillDocs, skillRoutes } from "./routes/skills";
import { systemDocs, systemRoutes } from "./routes/system";
import { userSkillDocs, userSkillRoutes } from "./routes/user-skills";

export const MAX_BODY_BYTES = 64 * 1024;

/** Every documented route; `/openapi.json` is built from this list. */
export const routeDocs: RouteDoc[] = [
  ...systemDocs,
  ...kioskDocs,
  ...skillDocs,
  ...equipmentDocs,
  ...accessDocs,
  ...auditLogDocs,
  ...userSkillDocs,
  ...requestDocs,
  ...deviceDocs,
  ...badgeDocs,
  ...allowlistDocs,
];

/**
 * The HTTP app. Routes are matched with and without a trailing slash (`strict: false`).
 * Sub-apps under `/api/v1/skills/…` with fixed names are mounted before the skills app, whose
 * `/:id` would otherwise capture them.
 */
export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ strict: false });
  app.use("*", requestContext);
  app.use(
    "/api/*",
    cors({
      origin: (origin, c) => {
        const allowed = loadConfig(c.env).ALLOWED_ORIGINS;
        return allowed.includes(origin) ? origin : null;
      },
      allowHeaders: ["authorization", "content-type", "if-none-match", "x-request-id"],
      allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
      exposeHeaders: ["etag", "x-request-id"],
      maxAge: 600,
    }),
  );
  app.use("*", requestDeps);
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError("payload_too_large", "Request body is larger than 64 KiB");
      },
    }),
  );
  app.use("/api/*", authenticate);
  app.use("/api/*", jsonBody);
  app.use("*", fixedPathMethods(app));

  app.route(
    "/",
    systemRoutes(() => routeDocs),
  );
  app.route("/kiosk", kioskRoutes);
  app.route("/", jwksRoutes);
  app.route("/api/v1/devices", deviceRoutes);
  app.route("/api/v1/badges", badgeRoutes);
  app.route("/api/v1/equipment", equipmentRoutes);
  app.route("/api/v1/skills/access", allowlistRoutes);
  app.route("/api/v1/skills/access", accessRoutes);
  app.route("/api/v1/skills/equipment-requirements", requirementsRoutes);
  app.route("/api/v1/skills/audit-logs", auditLogRoutes);
  app.route("/api/v1/skills/user-skills", userSkillRoutes);
  app.route("/api/v1/skills/requests", requestRoutes);
  app.route("/api/v1/skills", skillRoutes);

  app.onError(onError);
  app.notFound(notFoundOrMethodNotAllowed(app));
  return app;
}

export const app = buildApp();
