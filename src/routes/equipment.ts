import { Hono } from "hono";
import { assertMakerspace, scopeMakerspace } from "../auth/guards";
import type { AppEnv } from "../context";
import { validate } from "../lib/validate";
import { adminOnly } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import {
  EquipmentCreateSchema,
  EquipmentListQuerySchema,
  EquipmentParamSchema,
  EquipmentSchema,
  EquipmentUpdateSchema,
} from "../schemas/equipment";
import { createEquipment, getEquipment, listEquipment, updateEquipment } from "../services/equipment";

export const equipmentRoutes = new Hono<AppEnv>()
  .post("/", adminOnly, validate("json", EquipmentCreateSchema), async (c) => {
    const actor = c.get("principal");
    const body = c.req.valid("json");
    assertMakerspace(actor, body.makerspace_id);
    return c.json(await createEquipment(c.get("deps"), actor, body), 201);
  })
  .get("/", validate("query", EquipmentListQuerySchema), async (c) => {
    const actor = c.get("principal");
    const query = c.req.valid("query");
    return c.json(await listEquipment(c.get("deps"), actor, scopeMakerspace(actor, query.makerspace_id), query));
  })
  .get("/:id", validate("param", EquipmentParamSchema), async (c) => {
    return c.json(await getEquipment(c.get("deps"), c.get("principal"), c.req.valid("param").id));
  })
  .put(
    "/:id",
    adminOnly,
    validate("param", EquipmentParamSchema),
    validate("json", EquipmentUpdateSchema),
    async (c) => {
      const actor = c.get("principal");
      return c.json(await updateEquipment(c.get("deps"), actor, c.req.valid("param").id, c.req.valid("json")));
    },
  );

const base = "/api/v1/equipment";
export const equipmentDocs: RouteDoc[] = [
  {
    method: "post",
    path: base,
    summary: "Register equipment (optional caller-given id)",
    tag: "Equipment",
    roles: "super_admin, makerspace_admin",
    body: EquipmentCreateSchema,
    responses: { 201: { description: "Created", schema: EquipmentSchema } },
  },
  {
    method: "get",
    path: base,
    summary: "List equipment",
    tag: "Equipment",
    roles: "any role, own makerspace",
    query: EquipmentListQuerySchema,
    responses: { 200: { description: "Equipment", schema: EquipmentSchema.array() } },
  },
  {
    method: "get",
    path: `${base}/{id}`,
    summary: "Get equipment",
    tag: "Equipment",
    roles: "any role, own makerspace",
    params: EquipmentParamSchema,
    responses: { 200: { description: "The equipment", schema: EquipmentSchema } },
  },
  {
    method: "put",
    path: `${base}/{id}`,
    summary: "Update equipment (partial)",
    tag: "Equipment",
    roles: "super_admin, makerspace_admin",
    params: EquipmentParamSchema,
    body: EquipmentUpdateSchema,
    responses: { 200: { description: "The updated equipment", schema: EquipmentSchema } },
  },
];
