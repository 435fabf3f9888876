import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { AppError } from "../lib/errors";
import { errorText } from "../lib/logger";
import { validate } from "../lib/validate";
import { DOCS_PAGE } from "../openapi/docs-page";
import { buildOpenApiDocument } from "../openapi/document";
import type { RouteDoc } from "../openapi/registry";

const HealthQuerySchema = z.object({ deep: z.enum(["0", "1", "true", "false"]).optional() });
const HealthSchema = z.object({
  status: z.literal("ok"),
  checks: z.object({ d1: z.literal("ok"), kv: z.literal("ok") }).optional(),
});

/** Unauthenticated routes: health, the OpenAPI document and its interactive page. */
export function systemRoutes(allDocs: () => RouteDoc[]) {
  let document: Record<string, unknown> | undefined;
  return new Hono<AppEnv>()
    .get("/health", validate("query", HealthQuerySchema), async (c) => {
      const { deep } = c.req.valid("query");
      if (deep !== "1" && deep !== "true") return c.json({ status: "ok" as const });
      const deps = c.get("deps");
      try {
        await deps.env.DB.prepare("select 1").first();
        await deps.kv.get("health:probe");
      } catch (err) {
        deps.logger.error("deep health check failed", { error: errorText(err) });
        throw new AppError("internal_error", "A dependency is unavailable", { request_id: deps.requestId });
      }
      return c.json({ status: "ok" as const, checks: { d1: "ok" as const, kv: "ok" as const } });
    })
    .get("/openapi.json", (c) => {
      document ??= buildOpenApiDocument(allDocs());
      return c.json(document);
    })
    .get("/docs", (c) => c.html(DOCS_PAGE));
}

export const systemDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/health",
    summary: "Liveness; `?deep=1` also checks D1 and KV",
    tag: "System",
    roles: "anyone",
    auth: false,
    query: HealthQuerySchema,
    responses: { 200: { description: "Healthy", schema: HealthSchema } },
  },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This OpenAPI 3.1 document",
    tag: "System",
    roles: "anyone",
    auth: false,
    responses: { 200: { description: "OpenAPI document" } },
  },
  {
    method: "get",
    path: "/docs",
    summary: "Interactive API documentation",
    tag: "System",
    roles: "anyone",
    auth: false,
    responses: { 200: { description: "HTML page", contentType: "text/html" } },
  },
];
