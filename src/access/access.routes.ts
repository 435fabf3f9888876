import { OpenAPIHono } from "@hono/zod-openapi";
import { jsonBody, jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS, EVERY_ROLE } from "../identity/access";
import { scopeMakerspace } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { AppEnv } from "../platform/context";
import { validationError } from "../platform/errors";
import {
  AccessParamSchema,
  AccessQuerySchema,
  AccessResultSchema,
  BulkAccessQuerySchema,
  BulkAccessSchema,
  EquipmentRequirementsSchema,
  RequirementsQuerySchema,
  VerifyBodySchema,
} from "./access.schemas";
import { verifyAccessByBadge } from "./badge-verify";
import { bulkAccess, checkAccess, equipmentRequirements, verifyAccess } from "./checks";

/**
 * Whose access is checked: a member always its own (naming another user is refused by the
 * route's `own-user` scope); devices and admins must name the user.
 */
function subjectOf(actor: Principal, userId: string | undefined): string {
  if (actor.role === "member") return actor.sub;
  if (userId === undefined) throw validationError([{ path: "user_id", message: "is required" }]);
  return userId;
}

/** The makerspace a bulk call is about; a super_admin must name one. */
function makerspaceOf(actor: Principal, requested: string | undefined): string {
  const ms = scopeMakerspace(actor, requested);
  if (!ms) throw validationError([{ path: "makerspace_id", message: "is required" }]);
  return ms;
}

const tags = ["Access"];
const ACCESS_CHECK = { callers: EVERY_ROLE, scope: ["own-user", "device-equipment", "makerspace"] } as const;

const check = apiRoute({
  method: "get",
  path: "/equipment/{equipment_id}",
  tags,
  summary: "May this user use this equipment? (no side effects)",
  description: "A member checks its own access (`user_id` optional); devices and admins must name the user.",
  access: ACCESS_CHECK,
  request: { params: AccessParamSchema, query: AccessQuerySchema },
  responses: { 200: jsonContent(AccessResultSchema, "The decision") },
  errors: ["equipment_not_found"],
});

const verify = apiRoute({
  method: "post",
  path: "/equipment/{equipment_id}/verify",
  tags,
  summary: "Door/machine controller check by user_id or badge_uid: 200 allowed, 403 denied; always strong; audited",
  access: { callers: ["device", ...ADMINS], scope: ["device-equipment"] },
  request: { params: AccessParamSchema, body: jsonBody(VerifyBodySchema) },
  responses: { 200: jsonContent(AccessResultSchema, "Allowed") },
  errors: ["insufficient_skills", "equipment_not_found"],
  budget: "badge",
  callerBudgetExempt: ["door", "machine"],
});

const bulk = apiRoute({
  method: "get",
  path: "/equipment",
  tags,
  summary: "Access to every non-retired item of a makerspace, with a summary",
  description:
    "A member checks its own access (`user_id` optional); devices and admins must name the user, a super_admin also the makerspace. A device registered for some equipment sees only those items.",
  access: ACCESS_CHECK,
  request: { query: BulkAccessQuerySchema },
  responses: { 200: jsonContent(BulkAccessSchema, "Per-equipment decisions") },
});

/** Mounted at /api/v1/skills/access. */
export const accessRoutes = new OpenAPIHono<AppEnv>()
  .openapi(bulk, async (c) => {
    const actor = c.get("principal");
    const q = c.req.valid("query");
    const ms = makerspaceOf(actor, q.makerspace_id);
    return c.json(await bulkAccess(c.get("deps"), actor, ms, subjectOf(actor, q.user_id), q.consistency), 200);
  })
  .openapi(check, async (c) => {
    const actor = c.get("principal");
    const q = c.req.valid("query");
    const id = c.req.valid("param").equipment_id;
    return c.json(await checkAccess(c.get("deps"), actor, id, subjectOf(actor, q.user_id), q.consistency), 200);
  })
  .openapi(verify, async (c) => {
    const actor = c.get("principal");
    const body = c.req.valid("json");
    const id = c.req.valid("param").equipment_id;
    const deps = c.get("deps");
    if (body.badge_uid !== undefined) return c.json(await verifyAccessByBadge(deps, actor, id, body.badge_uid), 200);
    return c.json(await verifyAccess(deps, actor, id, subjectOf(actor, body.user_id)), 200);
  });

const requirements = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Each equipment item with the skills it requires",
  access: { callers: EVERY_ROLE, scope: ["makerspace"] },
  request: { query: RequirementsQuerySchema },
  responses: { 200: jsonContent(EquipmentRequirementsSchema, "Requirements") },
});

/** Mounted at /api/v1/skills/equipment-requirements. */
export const requirementsRoutes = new OpenAPIHono<AppEnv>().openapi(requirements, async (c) => {
  const actor = c.get("principal");
  const ms = makerspaceOf(actor, c.req.valid("query").makerspace_id);
  return c.json(await equipmentRequirements(c.get("deps"), actor, ms), 200);
});
