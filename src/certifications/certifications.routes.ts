import { OpenAPIHono } from "@hono/zod-openapi";
import { IdParamSchema, type Paging } from "../http/common.schemas";
import { jsonBody, jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { readerScope } from "../identity/guards";
import type { AppEnv, Deps } from "../platform/context";
import { pageAcrossShards } from "../platform/db/fan-out";
import {
  RevokeBodySchema,
  RevokeQuerySchema,
  UserSkillGrantSchema,
  UserSkillListQuerySchema,
  UserSkillSchema,
} from "./certifications.schemas";
import { getUserSkill, grantSkill, listUserSkills, revokeUserSkill, userSkillOrder } from "./store";

const tags = ["User skills"];
const READERS = [...ADMINS, "member", "instructor", "kiosk"] as const;
const CERTIFIERS = [...ADMINS, "instructor"] as const;

const grant = apiRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Grant (or renew) a skill certification",
  description: "An instructor may grant the skills it instructs, to anyone but itself.",
  access: { callers: CERTIFIERS, scope: ["makerspace"] },
  request: { body: jsonBody(UserSkillGrantSchema) },
  responses: {
    201: jsonContent(UserSkillSchema, "Certification created"),
    200: jsonContent(UserSkillSchema, "Existing certification renewed"),
  },
  errors: ["skill_not_found", "invalid_state", "prerequisites_not_met"],
});

const list = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List certifications (effective status; a member sees only its own)",
  description: "With `skill_id` of a skill it instructs, an instructor sees every member's certifications of it.",
  access: { callers: READERS, scope: ["own-user", "makerspace"] },
  request: { query: UserSkillListQuerySchema },
  responses: { 200: jsonContent(UserSkillSchema.array(), "Certifications") },
});

const get = apiRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a certification (a member only its own or, as an instructor, its skill's: another is 403)",
  access: { callers: READERS, scope: ["makerspace"] },
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(UserSkillSchema, "The certification") },
  errors: ["user_skill_not_found"],
});

const revoke = apiRoute({
  method: "post",
  path: "/{id}/revoke",
  tags,
  summary: "Revoke a certification (reason in the query or the body; the body's wins)",
  description: "An instructor may revoke certifications of the skills it instructs, but not its own.",
  access: { callers: CERTIFIERS, scope: ["makerspace"] },
  request: { params: IdParamSchema, query: RevokeQuerySchema, body: jsonBody(RevokeBodySchema, false) },
  responses: { 200: jsonContent(UserSkillSchema, "The revoked certification") },
  errors: ["user_skill_not_found", "invalid_state"],
});

/** Mounted at /api/v1/skills/user-skills. */
export const userSkillRoutes = new OpenAPIHono<AppEnv>()
  .openapi(grant, async (c) => {
    const { userSkill, created } = await grantSkill(c.get("deps"), c.get("principal"), c.req.valid("json"));
    return created ? c.json(userSkill, 201) : c.json(userSkill, 200);
  })
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const actor = c.get("principal");
    const everywhere = readerScope(actor, query).makerspaceId === undefined;
    const page = (deps: Deps, p: Paging) => listUserSkills(deps, actor, { ...query, ...p });
    return c.json(await pageAcrossShards(c.get("deps"), everywhere, query, page, userSkillOrder(query)), 200);
  })
  .openapi(get, async (c) =>
    c.json(await getUserSkill(c.get("deps"), c.get("principal"), c.req.valid("param").id), 200),
  )
  .openapi(revoke, async (c) => {
    const reason = c.req.valid("json").reason ?? c.req.valid("query").reason ?? null;
    return c.json(await revokeUserSkill(c.get("deps"), c.get("principal"), c.req.valid("param").id, reason), 200);
  });
