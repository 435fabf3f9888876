import { Hono } from "hono";
import type { AppEnv } from "../context";
import { validate } from "../lib/validate";
import { adminOnly } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import { IdParamSchema } from "../schemas/common";
import {
  RequestCreateSchema,
  RequestListQuerySchema,
  RequestReviewSchema,
  SkillRequestSchema,
} from "../schemas/requests";
import { reviewRequest } from "../services/request-reviews";
import { createRequest, getRequest, listRequests } from "../services/requests";

export const requestRoutes = new Hono<AppEnv>()
  .post("/", validate("json", RequestCreateSchema), async (c) => {
    return c.json(await createRequest(c.get("deps"), c.get("principal"), c.req.valid("json")), 201);
  })
  .get("/", validate("query", RequestListQuerySchema), async (c) => {
    return c.json(await listRequests(c.get("deps"), c.get("principal"), c.req.valid("query")));
  })
  .get("/:id", validate("param", IdParamSchema), async (c) => {
    return c.json(await getRequest(c.get("deps"), c.get("principal"), c.req.valid("param").id));
  })
  .put("/:id", adminOnly, validate("param", IdParamSchema), validate("json", RequestReviewSchema), async (c) => {
    const actor = c.get("principal");
    return c.json(await reviewRequest(c.get("deps"), actor, c.req.valid("param").id, c.req.valid("json")));
  });

const base = "/api/v1/skills/requests";
export const requestDocs: RouteDoc[] = [
  {
    method: "post",
    path: base,
    summary: "Request a certification (auto-approved when SKILL_REQUEST_AUTO_APPROVE and prerequisites are met)",
    tag: "Skill requests",
    roles: "members (for themselves); admins and kiosk devices (user_id for a member)",
    body: RequestCreateSchema,
    responses: { 201: { description: "Created", schema: SkillRequestSchema } },
  },
  {
    method: "get",
    path: base,
    summary: "List skill requests (members see their own)",
    tag: "Skill requests",
    roles: "admins; kiosk devices; members (own only)",
    query: RequestListQuerySchema,
    responses: { 200: { description: "Requests", schema: SkillRequestSchema.array() } },
  },
  {
    method: "get",
    path: `${base}/{id}`,
    summary: "Get a skill request",
    tag: "Skill requests",
    roles: "admins; kiosk devices; members (own only)",
    params: IdParamSchema,
    responses: { 200: { description: "The request", schema: SkillRequestSchema } },
  },
  {
    method: "put",
    path: `${base}/{id}`,
    summary: "Approve (granting the skill) or reject a pending request",
    tag: "Skill requests",
    roles: "super_admin, makerspace_admin",
    params: IdParamSchema,
    body: RequestReviewSchema,
    responses: { 200: { description: "The reviewed request", schema: SkillRequestSchema } },
  },
];
