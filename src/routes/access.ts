import { Hono } from "hono";
import { ADMIN_ROLES, scopeMakerspace } from "../auth/guards";
import type { Principal } from "../auth/principal";
import type { AppEnv } from "../context";
import { AppError, validationError } from "../lib/errors";
import { validate } from "../lib/validate";
import { allowRoles } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import {
  AccessParamSchema,
  AccessQuerySchema,
  AccessResultSchema,
  BulkAccessQuerySchema,
  BulkAccessSchema,
  EquipmentRequirementsSchema,
  InsufficientSkillsSchema,
  RequirementsQuerySchema,
  VerifyBodySchema,
} from "../schemas/access";
import { bulkAccess, checkAccess, equipmentRequirements, verifyAccess } from "../services/access";
import { verifyAccessByBadge } from "../services/badge-verify";

/**
 * Whose access is checked: members only their own (`user_id` optional); devices and admins
 * must name the user.
 */
function subjectOf(actor: Principal, userId: string | undefined): string {
  if (actor.role === "member") {
    if (userId !== undefined && userId !== actor.sub) {
      throw new AppError("forbidden", "Members may only check their own access");
    }
    return actor.sub;
  }
  if (userId === undefined) throw validationError([{ path: "user_id", message: "is required" }]);
  return userId;
}

/** The makerspace a bulk call is about; a super_admin must name one. */
function makerspaceOf(actor: Principal, requested: string | undefined): string {
  const ms = scopeMakerspace(actor, requested);
  if (!ms) throw validationError([{ path: "makerspace_id", message: "is required" }]);
  return ms;
}

/** Mounted at /api/v1/skills/access. */
export const accessRoutes = new Hono<AppEnv>()
  .get("/equipment", validate("query", BulkAccessQuerySchema), async (c) => {
    const actor = c.get("principal");
    const q = c.req.valid("query");
    const ms = makerspaceOf(actor, q.makerspace_id);
    return c.json(await bulkAccess(c.get("deps"), actor, ms, subjectOf(actor, q.user_id), q.consistency));
  })
  .get(
    "/equipment/:equipment_id",
    validate("param", AccessParamSchema),
    validate("query", AccessQuerySchema),
    async (c) => {
      const actor = c.get("principal");
      const q = c.req.valid("query");
      const id = c.req.valid("param").equipment_id;
      return c.json(await checkAccess(c.get("deps"), actor, id, subjectOf(actor, q.user_id), q.consistency));
    },
  )
  .post(
    "/equipment/:equipment_id/verify",
    allowRoles("device", ...ADMIN_ROLES),
    validate("param", AccessParamSchema),
    validate("json", VerifyBodySchema),
    async (c) => {
      const actor = c.get("principal");
      const body = c.req.valid("json");
      const id = c.req.valid("param").equipment_id;
      const deps = c.get("deps");
      if (body.badge_uid !== undefined) return c.json(await verifyAccessByBadge(deps, actor, id, body.badge_uid));
      return c.json(await verifyAccess(deps, actor, id, subjectOf(actor, body.user_id)));
    },
  );

/** Mounted at /api/v1/skills/equipment-requirements. */
export const requirementsRoutes = new Hono<AppEnv>().get("/", validate("query", RequirementsQuerySchema), async (c) => {
  const actor = c.get("principal");
  const ms = makerspaceOf(actor, c.req.valid("query").makerspace_id);
  return c.json(await equipmentRequirements(c.get("deps"), actor, ms));
});

const base = "/api/v1/skills";
export const accessDocs: RouteDoc[] = [
  {
    method: "get",
    path: `${base}/access/equipment/{equipment_id}`,
    summary: "May this user use this equipment? (no side effects)",
    tag: "Access",
    roles: "member (own), device, admins",
    params: AccessParamSchema,
    query: AccessQuerySchema,
    responses: { 200: { description: "The decision", schema: AccessResultSchema } },
  },
  {
    method: "post",
    path: `${base}/access/equipment/{equipment_id}/verify`,
    summary: "Door/machine controller check by user_id or badge_uid: 200 allowed, 403 denied; always strong; audited",
    tag: "Access",
    roles: "device, admins",
    params: AccessParamSchema,
    body: VerifyBodySchema,
    responses: {
      200: { description: "Allowed", schema: AccessResultSchema },
      403: { description: "Denied (insufficient_skills)", schema: InsufficientSkillsSchema },
    },
  },
  {
    method: "get",
    path: `${base}/access/equipment`,
    summary: "Access to every non-retired item of a makerspace, with a summary",
    tag: "Access",
    roles: "member (own), device, admins",
    query: BulkAccessQuerySchema,
    responses: { 200: { description: "Per-equipment decisions", schema: BulkAccessSchema } },
  },
  {
    method: "get",
    path: `${base}/equipment-requirements`,
    summary: "Each equipment item with the skills it requires",
    tag: "Access",
    roles: "any role, own makerspace",
    query: RequirementsQuerySchema,
    responses: { 200: { description: "Requirements", schema: EquipmentRequirementsSchema } },
  },
];
