import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { expectError } from "../helpers/assertions";
import { envWithD1, hookD1 } from "../helpers/d1-hooks";
import { call, callJson } from "../helpers/http";
import { type Components, type JsonSchema, resolve } from "../helpers/json-schema-arbitrary";

interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Components };
}

/** `/api/v1/skills/:id/` → `/api/v1/skills/{id}`: the OpenAPI form, trailing slash dropped. */
function normalise(path: string): string {
  const templated = path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
  return templated.length > 1 ? templated.replace(/\/+$/, "") : templated;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /health", () => {
  it("answers ok without a token", async () => {
    const res = await callJson("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it.each(["?deep=1", "?deep=true"])("%s also checks D1, its migrations, KV and the audit backlog", async (query) => {
    const res = await callJson("GET", `/health${query}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: "ok",
      checks: {
        d1: "ok",
        schema: "ok",
        kv: "ok",
        shards: { SHARD_0: "ok", SHARD_1: "ok" },
        outbox: { pending: 0, oldest_age_s: 0 },
        dead_letters: 0,
        audit_events_lost: expect.any(Number),
        rate_limited: expect.objectContaining({ caller: expect.any(Number) }),
      },
    });
  });

  it("?deep=1 fails with 503 unavailable when D1 is down, naming nothing", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const unreachable = () => {
      throw new Error("D1 is unreachable at 10.0.0.7");
    };
    // One shard down is enough: every shard must answer.
    const down = envWithD1((db, name) => (name === "SHARD_1" ? hookD1(db, { prepare: unreachable }) : db));
    const res = await callJson("GET", "/health?deep=1", { env: down });
    expectError(res, 503, "unavailable");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(JSON.stringify(res.body)).not.toContain("10.0.0.7");
    // the shallow check does not touch D1
    expect((await callJson("GET", "/health", { env: down })).status).toBe(200);
  });

  it("422 for an unknown deep value", async () => {
    expectError(await callJson("GET", "/health?deep=yes"), 422, "validation_error", { errors: expect.any(Array) });
  });
});

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document, served without a token", async () => {
    const res = await callJson<OpenApiDoc>("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(res.body.components.securitySchemes).toHaveProperty("bearer");
  });

  it("lists every route the app serves, with its method", async () => {
    const doc = (await callJson<OpenApiDoc>("GET", "/openapi.json")).body;
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${normalise(path)}`),
      ),
    );
    const served = [
      ...new Set(
        app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toUpperCase()} ${normalise(r.path)}`),
      ),
    ];
    expect(served.length).toBeGreaterThanOrEqual(11);
    const missing = served.filter((route) => !documented.has(route));
    expect(missing).toEqual([]);
  });

  it("documents no route the app does not serve", async () => {
    const doc = (await callJson<OpenApiDoc>("GET", "/openapi.json")).body;
    const served = new Set(
      app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toUpperCase()} ${normalise(r.path)}`),
    );
    const extra = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${normalise(path)}`))
      .filter((route) => !served.has(route));
    expect(extra).toEqual([]);
  });

  it("describes the skill body from the validating schema (constraints included)", async () => {
    const doc = (await callJson<OpenApiDoc>("GET", "/openapi.json")).body;
    const ops = doc.paths["/api/v1/skills/"] ?? doc.paths["/api/v1/skills"];
    const post = ops?.post as unknown as {
      requestBody: { content: { "application/json": { schema: JsonSchema } } };
    };
    // The body is a `$ref` to a named component: read it as a client would, through the reference.
    const schema = resolve(post.requestBody.content["application/json"].schema, doc.components.schemas) as {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
    };
    expect(schema.required).toEqual(expect.arrayContaining(["name", "category", "level", "makerspace_id"]));
    expect(schema.properties.name).toMatchObject({ maxLength: 100, pattern: "^[a-zA-Z0-9\\s-]+$" });
    expect(schema.properties.level).toMatchObject({ enum: ["beginner", "intermediate", "advanced", "expert"] });
  });

  it("marks only the public routes as needing no token", async () => {
    const doc = (await callJson<OpenApiDoc>("GET", "/openapi.json")).body;
    const open = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ route: `${m} ${path}`, op })))
      .filter(({ op }) => Array.isArray(op.security) && op.security.length === 0)
      .map(({ route }) => route);
    const publicRoutes = [
      "get /health",
      "get /openapi.json",
      "get /docs",
      "get /.well-known/jwks.json",
      "get /kiosk",
      "get /admin/config.json",
    ];
    for (const route of open) expect(publicRoutes).toContain(route);
    expect(open).toEqual(expect.arrayContaining(["get /health", "get /openapi.json", "get /docs"]));
  });
});

describe("GET /docs", () => {
  it("is an HTML page over /openapi.json, served without a token", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain("/openapi.json");
  });
});
