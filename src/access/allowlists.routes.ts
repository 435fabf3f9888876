import { OpenAPIHono } from "@hono/zod-openapi";
import { jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { publishedSigningJwks } from "../identity/allowlist-key";
import type { AppEnv } from "../platform/context";
import { AccessParamSchema } from "./access.schemas";
import { getAllowlist } from "./allowlists";
import { AllowlistHeadersSchema, JwksSchema, SignedAllowlistSchema } from "./allowlists.schemas";

const ETAG_HEADER = {
  ETag: { description: "The list's `version`, quoted", schema: { type: "string" } },
} as const;

const allowlist = apiRoute({
  method: "get",
  path: "/equipment/{equipment_id}/allowlist",
  tags: ["Access"],
  summary: "Signed offline allow-list (EdDSA compact JWS); ETag = version, If-None-Match → 304",
  access: { callers: ["device", ...ADMINS], scope: ["device-equipment"] },
  request: { params: AccessParamSchema, headers: AllowlistHeadersSchema },
  responses: {
    200: { ...jsonContent(SignedAllowlistSchema, "The list and its JWS"), headers: ETAG_HEADER },
    304: { description: "Not modified (If-None-Match names the current version)", headers: ETAG_HEADER },
  },
  errors: ["equipment_not_found"],
});

/** Mounted at /api/v1/skills/access, before the access checks. */
export const allowlistRoutes = new OpenAPIHono<AppEnv>().openapi(allowlist, async (c) => {
  const id = c.req.valid("param").equipment_id;
  const ifNoneMatch = c.req.valid("header")["If-None-Match"];
  const result = await getAllowlist(c.get("deps"), c.get("principal"), id, ifNoneMatch);
  if (result.notModified) return c.body(null, 304, { etag: `"${result.version}"` });
  return c.json(result.body, 200, { etag: `"${result.body.allowlist.version}"` });
});

const jwks = apiRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["System"],
  summary: "Public key(s) that verify allow-list signatures",
  access: { public: true },
  responses: {
    200: {
      ...jsonContent(JwksSchema, "JWK set"),
      headers: { "Cache-Control": { description: "`public, max-age=300`", schema: { type: "string" } } },
    },
  },
});

/** `/.well-known/jwks.json`: unauthenticated, so controllers can fetch it before they hold a list. */
export const jwksRoutes = new OpenAPIHono<AppEnv>().openapi(jwks, async (c) => {
  const keys = await publishedSigningJwks(c.get("deps").config);
  return c.json({ keys }, 200, { "cache-control": "public, max-age=300" });
});
