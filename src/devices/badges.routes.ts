import { OpenAPIHono } from "@hono/zod-openapi";
import { IdParamSchema, type Paging } from "../http/common.schemas";
import { jsonBody, jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { scopeMakerspace } from "../identity/guards";
import type { AppEnv, Deps } from "../platform/context";
import { pageAcrossShards } from "../platform/db/fan-out";
import { BADGE_ORDER, listBadges, registerBadge, removeBadge, resolveBadge } from "./badges";
import {
  BadgeCreateSchema,
  BadgeListQuerySchema,
  BadgeResolvedSchema,
  BadgeResolveSchema,
  BadgeSchema,
} from "./badges.schemas";

const tags = ["Badges"];
const admins = { callers: ADMINS, scope: ["makerspace"] } as const;

const register = apiRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Register a member's card (only its SHA-256 and last 4 hex digits are kept)",
  access: admins,
  request: { body: jsonBody(BadgeCreateSchema) },
  responses: { 201: jsonContent(BadgeSchema, "The badge") },
  errors: ["badge_conflict"],
});

const list = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List badges",
  access: admins,
  request: { query: BadgeListQuerySchema },
  responses: { 200: jsonContent(BadgeSchema.array(), "Badges") },
});

const resolve = apiRoute({
  method: "post",
  path: "/resolve",
  tags,
  summary: "The member a card belongs to (a POST, so UIDs stay out of URLs and logs)",
  access: { callers: [...ADMINS, "kiosk"], scope: ["makerspace"] },
  request: { body: jsonBody(BadgeResolveSchema) },
  responses: { 200: jsonContent(BadgeResolvedSchema, "The card's member") },
  errors: ["badge_not_found"],
  budget: "badge",
});

const remove = apiRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Remove a lost or replaced card",
  access: admins,
  request: { params: IdParamSchema },
  responses: { 204: { description: "Removed" } },
  errors: ["badge_not_found"],
});

/** Mounted at /api/v1/badges. */
export const badgeRoutes = new OpenAPIHono<AppEnv>()
  .openapi(register, async (c) =>
    c.json(await registerBadge(c.get("deps"), c.get("principal"), c.req.valid("json")), 201),
  )
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const actor = c.get("principal");
    const everywhere = scopeMakerspace(actor, query.makerspace_id) === undefined;
    const page = (deps: Deps, p: Paging) => listBadges(deps, actor, { ...query, ...p });
    return c.json(await pageAcrossShards(c.get("deps"), everywhere, query, page, BADGE_ORDER), 200);
  })
  .openapi(resolve, async (c) =>
    c.json(await resolveBadge(c.get("deps"), c.get("principal"), c.req.valid("json")), 200),
  )
  .openapi(remove, async (c) => {
    await removeBadge(c.get("deps"), c.get("principal"), c.req.valid("param").id);
    return c.body(null, 204);
  });
