import { OpenAPIHono } from "@hono/zod-openapi";
import { IdParamSchema, type Paging } from "../http/common.schemas";
import { jsonBody, jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS, EVERY_ROLE } from "../identity/access";
import { scopeMakerspace } from "../identity/guards";
import type { AppEnv, Deps } from "../platform/context";
import { pageAcrossShards } from "../platform/db/fan-out";
import { createEquipment, EQUIPMENT_ORDER, getEquipment, listEquipment, updateEquipment } from "./equipment";
import {
  EquipmentCreateSchema,
  EquipmentListQuerySchema,
  EquipmentSchema,
  EquipmentUpdateSchema,
} from "./equipment.schemas";

const tags = ["Equipment"];

const create = apiRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Register equipment (optional caller-given id)",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { body: jsonBody(EquipmentCreateSchema) },
  responses: { 201: jsonContent(EquipmentSchema, "The new equipment") },
  errors: ["equipment_conflict"],
});

const list = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List equipment (a device registered for some items lists only those)",
  access: { callers: EVERY_ROLE, scope: ["makerspace"] },
  request: { query: EquipmentListQuerySchema },
  responses: { 200: jsonContent(EquipmentSchema.array(), "Equipment") },
});

// The path names the item `id`, not `equipment_id`, so `getEquipment` applies `device-equipment`.
const get = apiRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get equipment",
  access: { callers: EVERY_ROLE, scope: ["makerspace", "device-equipment"] },
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(EquipmentSchema, "The equipment") },
  errors: ["equipment_not_found"],
});

const update = apiRoute({
  method: "put",
  path: "/{id}",
  tags,
  summary: "Update equipment (partial)",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { params: IdParamSchema, body: jsonBody(EquipmentUpdateSchema) },
  responses: { 200: jsonContent(EquipmentSchema, "The updated equipment") },
  errors: ["equipment_not_found"],
});

/** Mounted at /api/v1/equipment. */
export const equipmentRoutes = new OpenAPIHono<AppEnv>()
  .openapi(create, async (c) =>
    c.json(await createEquipment(c.get("deps"), c.get("principal"), c.req.valid("json")), 201),
  )
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const actor = c.get("principal");
    const makerspaceId = scopeMakerspace(actor, query.makerspace_id);
    const page = (deps: Deps, p: Paging) => listEquipment(deps, actor, makerspaceId, { ...query, ...p });
    return c.json(await pageAcrossShards(c.get("deps"), makerspaceId === undefined, query, page, EQUIPMENT_ORDER), 200);
  })
  .openapi(get, async (c) =>
    c.json(await getEquipment(c.get("deps"), c.get("principal"), c.req.valid("param").id), 200),
  )
  .openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await updateEquipment(c.get("deps"), c.get("principal"), id, c.req.valid("json")), 200);
  });
