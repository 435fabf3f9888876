import { OpenAPIHono } from "@hono/zod-openapi";
import { IdParamSchema, type Paging } from "../http/common.schemas";
import { jsonBody, jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS, EVERY_ROLE } from "../identity/access";
import { scopeMakerspace } from "../identity/guards";
import type { AppEnv, Deps } from "../platform/context";
import { pageAcrossShards } from "../platform/db/fan-out";
import { createSkill, getSkill, listSkills, SKILL_ORDER, updateSkill } from "./skills";
import { SkillCreateSchema, SkillListQuerySchema, SkillSchema, SkillUpdateSchema } from "./skills.schemas";

const tags = ["Skills"];

const create = apiRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create a skill",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { body: jsonBody(SkillCreateSchema) },
  responses: { 201: jsonContent(SkillSchema, "The new skill") },
  errors: ["skill_conflict", "prerequisite_cycle"],
});

const list = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List skills (ordered by name, ignoring case)",
  access: { callers: EVERY_ROLE, scope: ["makerspace"] },
  request: { query: SkillListQuerySchema },
  responses: { 200: jsonContent(SkillSchema.array(), "Skills") },
});

const get = apiRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a skill",
  access: { callers: EVERY_ROLE, scope: ["makerspace"] },
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(SkillSchema, "The skill") },
  errors: ["skill_not_found"],
});

const update = apiRoute({
  method: "put",
  path: "/{id}",
  tags,
  summary: "Update a skill (partial; link lists replace the sets)",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { params: IdParamSchema, body: jsonBody(SkillUpdateSchema) },
  responses: { 200: jsonContent(SkillSchema, "The updated skill") },
  errors: ["skill_not_found", "skill_conflict", "prerequisite_cycle"],
});

/** Mounted at /api/v1/skills. */
export const skillRoutes = new OpenAPIHono<AppEnv>()
  .openapi(create, async (c) => c.json(await createSkill(c.get("deps"), c.get("principal"), c.req.valid("json")), 201))
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const makerspaceId = scopeMakerspace(c.get("principal"), query.makerspace_id);
    const everywhere = makerspaceId === undefined;
    const page = (deps: Deps, p: Paging) => listSkills(deps, makerspaceId, { ...query, ...p });
    return c.json(await pageAcrossShards(c.get("deps"), everywhere, query, page, SKILL_ORDER), 200);
  })
  .openapi(get, async (c) => c.json(await getSkill(c.get("deps"), c.get("principal"), c.req.valid("param").id), 200))
  .openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await updateSkill(c.get("deps"), c.get("principal"), id, c.req.valid("json")), 200);
  });
