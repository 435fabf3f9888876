import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { assertMakerspace } from "../identity/guards";
import type { AppEnv } from "../platform/context";
import { AppError } from "../platform/errors";
import { readMatrix } from "./matrix";
import { MatrixQuerySchema, MatrixSchema } from "./matrix.schemas";
import { readOverview } from "./overview";
import { OverviewParamSchema, OverviewSchema } from "./overview.schemas";

const matrix = apiRoute({
  method: "get",
  path: "/",
  tags: ["Console"],
  summary: "The training matrix: a page of members × the makerspace's skills, one state per cell",
  description:
    "Cells: `certified`, `expiring` (in force, expiring within 30 days), `expired`, `revoked`, `requested` (a pending request, and no certification in force); a skill without a cell is `none`. Rows are the members with a certification or a request of a listed skill, by `user_id`. An instructor sees the skills it instructs.",
  access: { callers: [...ADMINS, "instructor"], scope: ["makerspace"] },
  request: { query: MatrixQuerySchema },
  responses: { 200: jsonContent(MatrixSchema, "A page of the matrix") },
});

/** Mounted at /api/v1/skills/matrix (before the skills app, whose `/:id` would take it). */
export const matrixRoutes = new OpenAPIHono<AppEnv>().openapi(matrix, async (c) =>
  c.json(await readMatrix(c.get("deps"), c.get("principal"), c.req.valid("query")), 200),
);

const overview = apiRoute({
  method: "get",
  path: "/{makerspace_id}/overview",
  tags: ["Console"],
  summary: "A makerspace at a glance: members, certifications, requests, equipment, devices, latest activity",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { params: OverviewParamSchema },
  responses: { 200: jsonContent(OverviewSchema, "The counts and the latest events") },
});

/** Mounted at /api/v1/makerspaces. */
export const overviewRoutes = new OpenAPIHono<AppEnv>().openapi(overview, async (c) => {
  const { makerspace_id } = c.req.valid("param");
  assertMakerspace(c.get("principal"), makerspace_id);
  return c.json(await readOverview(c.get("deps"), makerspace_id), 200);
});

const ConsoleConfigSchema = z
  .object({
    oidc: z
      .object({ issuer: z.string(), client_id: z.string(), scopes: z.string() })
      .nullable()
      .openapi({ description: "Sign-in by OpenID Connect (code + PKCE) when OIDC_ISSUER and OIDC_CLIENT_ID are set" }),
  })
  .openapi("ConsoleConfig");

const config = apiRoute({
  method: "get",
  path: "/config.json",
  tags: ["Console"],
  summary: "The admin console's sign-in settings (public: no secret in it)",
  access: { public: true },
  responses: { 200: jsonContent(ConsoleConfigSchema, "How the console signs people in") },
});

/** The console's Content-Security-Policy: its own files, its API, and the sign-in provider. */
function consoleCsp(issuer: string | undefined): string {
  const provider = issuer ? ` ${new URL(issuer).origin}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${provider}`,
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * The console's files from the ASSETS binding, `/admin/…` → `/…` of console/dist: a file when
 * one matches, else the app's index.html (single-page-application fallback), so a deep link or a
 * reload of any console URL opens the app at that screen.
 */
async function serveConsole(c: Context<AppEnv>): Promise<Response> {
  if (c.req.method !== "GET" && c.req.method !== "HEAD") {
    throw new AppError("method_not_allowed", "The console's files are read with GET");
  }
  const url = new URL(c.req.url);
  const path = url.pathname.replace(/^\/admin/, "") || "/";
  const res = await c.env.ASSETS.fetch(new Request(new URL(path, url.origin), { headers: c.req.raw.headers }));
  const out = new Response(res.body, res);
  const hashed = path.startsWith("/assets/") && res.status === 200;
  out.headers.set("cache-control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  out.headers.set("content-security-policy", consoleCsp(c.get("deps").config.OIDC_ISSUER));
  out.headers.set("x-frame-options", "DENY");
  out.headers.set("referrer-policy", "no-referrer");
  out.headers.set("x-content-type-options", "nosniff");
  out.headers.set("permissions-policy", "camera=(), microphone=(), geolocation=()");
  return out;
}

/**
 * Mounted at /admin: the console's settings (an API operation, in the OpenAPI document), then its
 * files — static assets of any path, not operations, so registered for every method (GET and HEAD
 * served, others 405) and left out of the document, as `app.routes` of method ALL are.
 */
export const consoleRoutes = new OpenAPIHono<AppEnv>()
  .openapi(config, (c) => {
    const cfg = c.get("deps").config;
    const oidc =
      cfg.OIDC_ISSUER && cfg.OIDC_CLIENT_ID
        ? { issuer: cfg.OIDC_ISSUER.replace(/\/$/, ""), client_id: cfg.OIDC_CLIENT_ID, scopes: cfg.OIDC_SCOPES }
        : null;
    return c.json({ oidc }, 200, { "cache-control": "no-store" });
  })
  .all("/", serveConsole)
  .all("/*", serveConsole);
