import { Hono } from "hono";
import { assertMakerspace, isAdmin, isKioskDevice } from "../auth/guards";
import type { AppEnv } from "../context";
import { AppError } from "../lib/errors";
import { validate } from "../lib/validate";
import { adminOnly } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import {
  BadgeCreateSchema,
  BadgeListQuerySchema,
  BadgeParamSchema,
  BadgeResolvedSchema,
  BadgeResolveSchema,
  BadgeSchema,
} from "../schemas/badges";
import { listBadges, registerBadge, removeBadge, resolveBadge } from "../services/badges";

/** Mounted at /api/v1/badges (API.md section 8). */
export const badgeRoutes = new Hono<AppEnv>()
  .post("/", adminOnly, validate("json", BadgeCreateSchema), async (c) => {
    const actor = c.get("principal");
    const body = c.req.valid("json");
    assertMakerspace(actor, body.makerspace_id);
    return c.json(await registerBadge(c.get("deps"), actor, body), 201);
  })
  .get("/", adminOnly, validate("query", BadgeListQuerySchema), async (c) => {
    return c.json(await listBadges(c.get("deps"), c.get("principal"), c.req.valid("query")));
  })
  .post(
    "/resolve",
    async (c, next) => {
      const actor = c.get("principal");
      if (!isAdmin(actor) && !isKioskDevice(actor)) throw new AppError("forbidden", "Not allowed for this role");
      await next();
    },
    validate("json", BadgeResolveSchema),
    async (c) => c.json(await resolveBadge(c.get("deps"), c.get("principal"), c.req.valid("json"))),
  )
  .delete("/:id", adminOnly, validate("param", BadgeParamSchema), async (c) => {
    await removeBadge(c.get("deps"), c.get("principal"), c.req.valid("param").id);
    return c.body(null, 204);
  });

const base = "/api/v1/badges";
const admins = "super_admin, makerspace_admin";
export const badgeDocs: RouteDoc[] = [
  {
    method: "post",
    path: base,
    summary: "Register a member's card (only its SHA-256 and last 4 hex digits are kept)",
    tag: "Badges",
    roles: admins,
    body: BadgeCreateSchema,
    responses: { 201: { description: "The badge", schema: BadgeSchema } },
  },
  {
    method: "get",
    path: base,
    summary: "List badges",
    tag: "Badges",
    roles: admins,
    query: BadgeListQuerySchema,
    responses: { 200: { description: "Badges", schema: BadgeSchema.array() } },
  },
  {
    method: "delete",
    path: `${base}/{id}`,
    summary: "Remove a lost or replaced card",
    tag: "Badges",
    roles: admins,
    params: BadgeParamSchema,
    responses: { 204: { description: "Removed" } },
  },
  {
    method: "post",
    path: `${base}/resolve`,
    summary: "The member a card belongs to (a POST, so UIDs stay out of URLs and logs)",
    tag: "Badges",
    roles: "super_admin, makerspace_admin, kiosk devices",
    body: BadgeResolveSchema,
    responses: { 200: { description: "The card's member", schema: BadgeResolvedSchema } },
  },
];
