import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../platform/context";
import { DOCS_PAGE } from "./docs-page";
import { deepHealth } from "./health";
import { jsonContent } from "./openapi-content";
import { apiRoute } from "./route";

const HealthQuerySchema = z.strictObject({ deep: z.enum(["0", "1", "true", "false"]).optional() });
const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    checks: z
      .object({
        d1: z.literal("ok"),
        schema: z.literal("ok"),
        kv: z.literal("ok"),
        shards: z.record(z.string(), z.literal("ok")),
        outbox: z.object({ pending: z.number().int(), oldest_age_s: z.number().int() }),
        dead_letters: z.number().int(),
        audit_events_lost: z.number().int(),
        rate_limited: z
          .object({
            caller: z.number().int().min(0),
            badge: z.number().int().min(0),
            makerspace: z.number().int().min(0),
            since: z.string().openapi({ description: "When this isolate started counting" }),
          })
          .openapi({
            description:
              "429s answered by this Worker isolate, per budget: each isolate counts its own, so this is a sample; the `rate limited` log lines are the full record",
          }),
      })
      .optional(),
  })
  .openapi("Health");

const tags = ["System"];
const health = apiRoute({
  method: "get",
  path: "/health",
  tags,
  summary:
    "Liveness; `?deep=1` also checks D1 — the directory and every shard, each migrated — KV and the audit backlog (`degraded` when stuck), and counts this isolate's 429s",
  access: { public: true },
  errors: ["unavailable"],
  request: { query: HealthQuerySchema },
  responses: { 200: jsonContent(HealthSchema, "Healthy") },
});

const openapi = apiRoute({
  method: "get",
  path: "/openapi.json",
  tags,
  summary: "This OpenAPI 3.1 document, generated from the routes",
  access: { public: true },
  responses: { 200: jsonContent(z.record(z.string(), z.unknown()), "OpenAPI document") },
});

const docs = apiRoute({
  method: "get",
  path: "/docs",
  tags,
  summary: "Interactive API documentation (self-contained, no CDN)",
  access: { public: true },
  responses: { 200: { description: "HTML page", content: { "text/html": { schema: z.string() } } } },
});

interface DocumentSource {
  getOpenAPI31Document: OpenAPIHono["getOpenAPI31Document"];
  openAPIRegistry: OpenAPIHono["openAPIRegistry"];
}

/** The OpenAPI document of every route the app declares, built once per isolate. */
export function openApiDocument(app: DocumentSource): Record<string, unknown> {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "MakrCave Skills API",
      version: "2.0.0",
      description:
        "Skills, certifications and equipment access decisions for makerspaces. Every route says who may call it (`x-access`).",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
  }) as unknown as Record<string, unknown>;
}

/** Unauthenticated routes: health, the OpenAPI document and its interactive page. */
export function systemRoutes(app: () => DocumentSource) {
  let document: Record<string, unknown> | undefined;
  return new OpenAPIHono<AppEnv>()
    .openapi(health, async (c) => {
      const { deep } = c.req.valid("query");
      if (deep !== "1" && deep !== "true") return c.json({ status: "ok" as const }, 200);
      return c.json(await deepHealth(c.get("deps")), 200);
    })
    .openapi(openapi, (c) => {
      document ??= openApiDocument(app());
      return c.json(document, 200);
    })
    .openapi(docs, (c) => c.html(DOCS_PAGE, 200));
}
