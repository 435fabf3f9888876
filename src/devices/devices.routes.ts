import { OpenAPIHono } from "@hono/zod-openapi";
import { IdParamSchema, type Paging } from "../http/common.schemas";
import { jsonBody, jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { scopeMakerspace } from "../identity/guards";
import type { AppEnv, Deps } from "../platform/context";
import { pageAcrossShards } from "../platform/db/fan-out";
import {
  DEVICE_ORDER,
  getDevice,
  heartbeat,
  listDevices,
  registerDevice,
  revokeDevice,
  rotateDeviceToken,
} from "./devices";
import {
  DeviceCreateSchema,
  DeviceListQuerySchema,
  DeviceSchema,
  DeviceWithTokenSchema,
  HeartbeatBodySchema,
  HeartbeatSchema,
} from "./devices.schemas";

const tags = ["Devices"];
const admins = { callers: ADMINS, scope: ["makerspace"] } as const;

const register = apiRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Register a controller; its token is shown once",
  access: admins,
  request: { body: jsonBody(DeviceCreateSchema) },
  responses: { 201: jsonContent(DeviceWithTokenSchema, "The device and its token") },
});

const list = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List devices (with `online` from heartbeats)",
  access: admins,
  request: { query: DeviceListQuerySchema },
  responses: { 200: jsonContent(DeviceSchema.array(), "Devices") },
});

const get = apiRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a device",
  access: admins,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(DeviceSchema, "The device") },
  errors: ["device_not_found"],
});

const rotate = apiRoute({
  method: "post",
  path: "/{id}/rotate-token",
  tags,
  summary: "Issue a new token; every earlier token of the device is rejected (401)",
  access: admins,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(DeviceWithTokenSchema, "The device and its new token") },
  errors: ["device_not_found", "invalid_state"],
});

const revoke = apiRoute({
  method: "post",
  path: "/{id}/revoke",
  tags,
  summary: "Revoke a device: every token is rejected within 60 s everywhere (at once on this isolate)",
  access: admins,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(DeviceSchema, "The revoked device") },
  errors: ["device_not_found", "invalid_state"],
});

const beat = apiRoute({
  method: "post",
  path: "/{id}/heartbeat",
  tags,
  summary: "A device reports in; answers the current allow-list version of each of its items",
  access: { callers: ["device"], scope: ["device-self"] },
  request: { params: IdParamSchema, body: jsonBody(HeartbeatBodySchema, false) },
  responses: { 200: jsonContent(HeartbeatSchema, "Server time and allow-list versions") },
  errors: ["device_not_found"],
});

/** Mounted at /api/v1/devices. */
export const deviceRoutes = new OpenAPIHono<AppEnv>()
  .openapi(register, async (c) =>
    c.json(await registerDevice(c.get("deps"), c.get("principal"), c.req.valid("json")), 201),
  )
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const makerspaceId = scopeMakerspace(c.get("principal"), query.makerspace_id);
    const page = (deps: Deps, p: Paging) => listDevices(deps, makerspaceId, { ...query, ...p });
    return c.json(await pageAcrossShards(c.get("deps"), makerspaceId === undefined, query, page, DEVICE_ORDER), 200);
  })
  .openapi(get, async (c) => c.json(await getDevice(c.get("deps"), c.get("principal"), c.req.valid("param").id), 200))
  .openapi(rotate, async (c) =>
    c.json(await rotateDeviceToken(c.get("deps"), c.get("principal"), c.req.valid("param").id), 200),
  )
  .openapi(revoke, async (c) =>
    c.json(await revokeDevice(c.get("deps"), c.get("principal"), c.req.valid("param").id), 200),
  )
  .openapi(beat, async (c) => c.json(await heartbeat(c.get("deps"), c.get("principal"), c.req.valid("json")), 200));
