import { Hono } from "hono";
import type { AppEnv } from "../context";
import { validate } from "../lib/validate";
import { adminOnly } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import { IdParamSchema } from "../schemas/common";
import {
  RevokeBodySchema,
  RevokeQuerySchema,
  UserSkillGrantSchema,
  UserSkillListQuerySchema,
  UserSkillSchema,
} from "../schemas/user-skills";
import { getUserSkill, grantSkill, listUserSkills, revokeUserSkill } from "../services/user-skills";

export const userSkillRoutes = new Hono<AppEnv>()
  .post("/", adminOnly, validate("json", UserSkillGrantSchema), async (c) => {
    const actor = c.get("principal");
    const { userSkill, created } = await grantSkill(c.get("deps"), actor, c.req.valid("json"));
    return c.json(userSkill, created ? 201 : 200);
  })
  .get("/", validate("query", UserSkillListQuerySchema), async (c) => {
    return c.json(await listUserSkills(c.get("deps"), c.get("principal"), c.req.valid("query")));
  })
  .get("/:id", validate("param", IdParamSchema), async (c) => {
    return c.json(await getUserSkill(c.get("deps"), c.get("principal"), c.req.valid("param").id));
  })
  .post(
    "/:id/revoke",
    adminOnly,
    validate("param", IdParamSchema),
    validate("query", RevokeQuerySchema),
    validate("json", RevokeBodySchema),
    async (c) => {
      const actor = c.get("principal");
      const reason = c.req.valid("json").reason ?? c.req.valid("query").reason ?? null;
      return c.json(await revokeUserSkill(c.get("deps"), actor, c.req.valid("param").id, reason));
    },
  );

const base = "/api/v1/skills/user-skills";
export const userSkillDocs: RouteDoc[] = [
  {
    method: "post",
    path: base,
    summary: "Grant (or renew) a skill certification",
    tag: "User skills",
    roles: "super_admin, makerspace_admin",
    body: UserSkillGrantSchema,
    responses: {
      201: { description: "Certification created", schema: UserSkillSchema },
      200: { description: "Existing certification renewed", schema: UserSkillSchema },
    },
  },
  {
    method: "get",
    path: base,
    summary: "List certifications (effective status; members see their own)",
    tag: "User skills",
    roles: "admins; kiosk devices; members (own only)",
    query: UserSkillListQuerySchema,
    responses: { 200: { description: "Certifications", schema: UserSkillSchema.array() } },
  },
  {
    method: "get",
    path: `${base}/{id}`,
    summary: "Get a certification",
    tag: "User skills",
    roles: "admins; kiosk devices; members (own only)",
    params: IdParamSchema,
    responses: { 200: { description: "The certification", schema: UserSkillSchema } },
  },
  {
    method: "post",
    path: `${base}/{id}/revoke`,
    summary: "Revoke a certification (reason in the query or the body)",
    tag: "User skills",
    roles: "super_admin, makerspace_admin",
    params: IdParamSchema,
    query: RevokeQuerySchema,
    body: RevokeBodySchema,
    responses: { 200: { description: "The revoked certification", schema: UserSkillSchema } },
  },
];
