import { OpenAPIHono } from "@hono/zod-openapi";
import { SkillSchema } from "../catalogue/skills.schemas";
import { IdParamSchema, type Paging } from "../http/common.schemas";
import { jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { scopeMakerspace } from "../identity/guards";
import type { AppEnv, Deps } from "../platform/context";
import { pageAcrossShards } from "../platform/db/fan-out";
import {
  assignInstructor,
  INSTRUCTOR_ORDER,
  instructedSkills,
  listSkillInstructors,
  removeInstructor,
  searchInstructors,
} from "./instructors";
import {
  InstructorListQuerySchema,
  InstructorParamSchema,
  InstructorSchema,
  InstructorSearchQuerySchema,
} from "./instructors.schemas";

const tags = ["Instructors"];

const assign = apiRoute({
  method: "put",
  path: "/{id}/instructors/{user_id}",
  tags,
  summary: "Make a member an instructor of the skill (201 new, 200 already)",
  description:
    "An instructor may grant, renew and revoke certifications of this skill, review its requests and read every member's rows of it — never its own.",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { params: InstructorParamSchema },
  responses: {
    201: jsonContent(InstructorSchema, "Assigned"),
    200: jsonContent(InstructorSchema, "Already assigned (unchanged)"),
  },
  errors: ["skill_not_found"],
});

const remove = apiRoute({
  method: "delete",
  path: "/{id}/instructors/{user_id}",
  tags,
  summary: "Remove an instructor of the skill (effective on its next call)",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { params: InstructorParamSchema },
  responses: { 204: { description: "Removed" } },
  errors: ["skill_not_found", "instructor_not_found"],
});

const list = apiRoute({
  method: "get",
  path: "/{id}/instructors",
  tags,
  summary: "The skill's instructors (oldest assignment first)",
  access: { callers: [...ADMINS, "member"], scope: ["makerspace"] },
  request: { params: IdParamSchema, query: InstructorListQuerySchema },
  responses: { 200: jsonContent(InstructorSchema.array(), "Instructors") },
  errors: ["skill_not_found"],
});

/** Mounted at /api/v1/skills, before the skills app. */
export const skillInstructorRoutes = new OpenAPIHono<AppEnv>()
  .openapi(assign, async (c) => {
    const { id, user_id } = c.req.valid("param");
    const { instructor, created } = await assignInstructor(c.get("deps"), c.get("principal"), id, user_id);
    return created ? c.json(instructor, 201) : c.json(instructor, 200);
  })
  .openapi(remove, async (c) => {
    const { id, user_id } = c.req.valid("param");
    await removeInstructor(c.get("deps"), c.get("principal"), id, user_id);
    return c.body(null, 204);
  })
  .openapi(list, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await listSkillInstructors(c.get("deps"), c.get("principal"), id, c.req.valid("query")), 200);
  });

const search = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Instructor assignments of the makerspace, by skill name (a kiosk names the member it shows)",
  access: { callers: [...ADMINS, "kiosk"], scope: ["makerspace"] },
  request: { query: InstructorSearchQuerySchema },
  responses: { 200: jsonContent(InstructorSchema.array(), "Instructor assignments") },
});

const mine = apiRoute({
  method: "get",
  path: "/me",
  tags,
  summary: "The skills the calling member instructs",
  access: { callers: ["member"], scope: [] },
  request: { query: InstructorListQuerySchema },
  responses: { 200: jsonContent(SkillSchema.array(), "Skills") },
});

/** Mounted at /api/v1/instructors. */
export const instructorRoutes = new OpenAPIHono<AppEnv>()
  .openapi(mine, async (c) =>
    c.json(await instructedSkills(c.get("deps"), c.get("principal"), c.req.valid("query")), 200),
  )
  .openapi(search, async (c) => {
    const query = c.req.valid("query");
    const principal = c.get("principal");
    // A super_admin naming no makerspace searches every shard.
    const everywhere = scopeMakerspace(principal, query.makerspace_id) === undefined;
    const page = (deps: Deps, p: Paging) => searchInstructors(deps, principal, { ...query, ...p });
    return c.json(await pageAcrossShards(c.get("deps"), everywhere, query, page, INSTRUCTOR_ORDER), 200);
  });
