import { OpenAPIHono } from "@hono/zod-openapi";
import { IdParamSchema, type Paging } from "../http/common.schemas";
import { jsonBody, jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { readerScope } from "../identity/guards";
import type { AppEnv, Deps } from "../platform/context";
import { pageAcrossShards } from "../platform/db/fan-out";
import { reviewRequest } from "./request-reviews";
import { createRequest, getRequest, listRequests, REQUEST_ORDER } from "./requests";
import {
  RequestCreateSchema,
  RequestListQuerySchema,
  RequestReviewSchema,
  SkillRequestSchema,
} from "./requests.schemas";

const tags = ["Skill requests"];
const REQUESTERS = [...ADMINS, "member", "kiosk"] as const;
const READERS = [...REQUESTERS, "instructor"] as const;

const create = apiRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Request a certification (auto-approved when SKILL_REQUEST_AUTO_APPROVE and prerequisites are met)",
  access: { callers: REQUESTERS, scope: ["own-user", "makerspace"] },
  request: { body: jsonBody(RequestCreateSchema) },
  responses: { 201: jsonContent(SkillRequestSchema, "Created (pending, or approved and granted)") },
  errors: ["skill_not_found", "invalid_state", "already_certified", "request_conflict"],
});

const list = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List skill requests (a member sees only its own)",
  description: "With `skill_id` of a skill it instructs, an instructor sees every member's requests for it.",
  access: { callers: READERS, scope: ["own-user", "makerspace"] },
  request: { query: RequestListQuerySchema },
  responses: { 200: jsonContent(SkillRequestSchema.array(), "Requests") },
});

const get = apiRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a skill request (a member only its own or, as an instructor, its skill's: another is 403)",
  access: { callers: READERS, scope: ["makerspace"] },
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(SkillRequestSchema, "The request") },
  errors: ["request_not_found"],
});

const review = apiRoute({
  method: "put",
  path: "/{id}",
  tags,
  summary: "Approve (granting the skill) or reject a pending request",
  description: "An instructor may review requests for the skills it instructs, but not its own.",
  access: { callers: [...ADMINS, "instructor"], scope: ["makerspace"] },
  request: { params: IdParamSchema, body: jsonBody(RequestReviewSchema) },
  responses: { 200: jsonContent(SkillRequestSchema, "The reviewed request") },
  errors: ["request_not_found", "skill_not_found", "invalid_state", "prerequisites_not_met"],
});

/** Mounted at /api/v1/skills/requests. */
export const requestRoutes = new OpenAPIHono<AppEnv>()
  .openapi(create, async (c) =>
    c.json(await createRequest(c.get("deps"), c.get("principal"), c.req.valid("json")), 201),
  )
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const actor = c.get("principal");
    const everywhere = readerScope(actor, query).makerspaceId === undefined;
    const page = (deps: Deps, p: Paging) => listRequests(deps, actor, { ...query, ...p });
    return c.json(await pageAcrossShards(c.get("deps"), everywhere, query, page, REQUEST_ORDER), 200);
  })
  .openapi(get, async (c) => c.json(await getRequest(c.get("deps"), c.get("principal"), c.req.valid("param").id), 200))
  .openapi(review, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await reviewRequest(c.get("deps"), c.get("principal"), id, c.req.valid("json")), 200);
  });
