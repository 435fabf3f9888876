import { Hono } from "hono";
import { publishedSigningJwks } from "../auth/allowlist-key";
import type { AppEnv } from "../context";
import { validate } from "../lib/validate";
import { allowRoles } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import { AccessParamSchema } from "../schemas/access";
import { JwksSchema, SignedAllowlistSchema } from "../schemas/allowlists";
import { getAllowlist } from "../services/allowlists";

/** Mounted at /api/v1/skills/access, before the access checks (API.md section 9). */
export const allowlistRoutes = new Hono<AppEnv>().get(
  "/equipment/:equipment_id/allowlist",
  allowRoles("device", "super_admin", "makerspace_admin"),
  validate("param", AccessParamSchema),
  async (c) => {
    const deps = c.get("deps");
    const id = c.req.valid("param").equipment_id;
    const result = await getAllowlist(deps, c.get("principal"), id, c.req.header("if-none-match"));
    const version = result.notModified ? result.version : result.body.allowlist.version;
    c.header("etag", `"${version}"`);
    if (result.notModified) return c.body(null, 304);
    return c.json(result.body);
  },
);

/** `/.well-known/jwks.json`: unauthenticated, so controllers can fetch it before they hold a list. */
export const jwksRoutes = new Hono<AppEnv>().get("/.well-known/jwks.json", async (c) => {
  const keys = await publishedSigningJwks(c.get("deps").config);
  c.header("cache-control", "public, max-age=300");
  return c.json({ keys });
});

export const allowlistDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/api/v1/skills/access/equipment/{equipment_id}/allowlist",
    summary: "Signed offline allow-list (EdDSA compact JWS); ETag = version, If-None-Match → 304",
    tag: "Access",
    roles: "device (for its equipment), super_admin, makerspace_admin",
    params: AccessParamSchema,
    responses: {
      200: { description: "The list and its JWS", schema: SignedAllowlistSchema },
      304: { description: "Not modified (If-None-Match names the current version)" },
    },
  },
  {
    method: "get",
    path: "/.well-known/jwks.json",
    summary: "Public key(s) that verify allow-list signatures",
    tag: "System",
    roles: "anyone",
    auth: false,
    responses: { 200: { description: "JWK set", schema: JwksSchema } },
  },
];
