import { Hono } from "hono";
import { assertMakerspace, scopeMakerspace } from "../auth/guards";
import type { AppEnv } from "../context";
import { validate } from "../lib/validate";
import { adminOnly } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import { IdParamSchema } from "../schemas/common";
import { SkillCreateSchema, SkillListQuerySchema, SkillSchema, SkillUpdateSchema } from "../schemas/skills";
import { createSkill, getSkill, listSkills, updateSkill } from "../services/skills";

export const skillRoutes = new Hono<AppEnv>()
  .post("/", adminOnly, validate("json", SkillCreateSchema), async (c) => {
    const actor = c.get("principal");
    const body = c.req.valid("json");
    assertMakerspace(actor, body.makerspace_id);
    return c.json(await createSkill(c.get("deps"), actor, body), 201);
  })
  .get("/", validate("query", SkillListQuerySchema), async (c) => {
    const actor = c.get("principal");
    const query = c.req.valid("query");
    return c.json(await listSkills(c.get("deps"), scopeMakerspace(actor, query.makerspace_id), query));
  })
  .get("/:id", validate("param", IdParamSchema), async (c) => {
    return c.json(await getSkill(c.get("deps"), c.get("principal"), c.req.valid("param").id));
  })
  .put("/:id", adminOnly, validate("param", IdParamSchema), validate("json", SkillUpdateSchema), async (c) => {
    const actor = c.get("principal");
    return c.json(await updateSkill(c.get("deps"), actor, c.req.valid("param").id, c.req.valid("json")));
  });

const base = "/api/v1/skills";
export const skillDocs: RouteDoc[] = [
  {
    method: "post",
    path: `${base}/`,
    summary: "Create a skill",
    tag: "Skills",
    roles: "super_admin, makerspace_admin",
    body: SkillCreateSchema,
    responses: { 201: { description: "Created", schema: SkillSchema } },
  },
  {
    method: "get",
    path: `${base}/`,
    summary: "List skills",
    tag: "Skills",
    roles: "any role, own makerspace",
    query: SkillListQuerySchema,
    responses: { 200: { description: "Skills", schema: SkillSchema.array() } },
  },
  {
    method: "get",
    path: `${base}/{id}`,
    summary: "Get a skill",
    tag: "Skills",
    roles: "any role, own makerspace",
    params: IdParamSchema,
    responses: { 200: { description: "The skill", schema: SkillSchema } },
  },
  {
    method: "put",
    path: `${base}/{id}`,
    summary: "Update a skill (partial; link lists replace the sets)",
    tag: "Skills",
    roles: "super_admin, makerspace_admin",
    params: IdParamSchema,
    body: SkillUpdateSchema,
    responses: { 200: { description: "The updated skill", schema: SkillSchema } },
  },
];
