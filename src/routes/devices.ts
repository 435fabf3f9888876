import { Hono } from "hono";
import { assertMakerspace, scopeMakerspace } from "../auth/guards";
import type { AppEnv } from "../context";
import { AppError } from "../lib/errors";
import { validate } from "../lib/validate";
import { adminOnly, allowRoles } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import {
  DeviceCreateSchema,
  DeviceListQuerySchema,
  DeviceParamSchema,
  DeviceSchema,
  DeviceWithTokenSchema,
  HeartbeatBodySchema,
  HeartbeatSchema,
} from "../schemas/devices";
import {
  getDevice,
  heartbeat,
  listDevices,
  registerDevice,
  revokeDevice,
  rotateDeviceToken,
} from "../services/devices";

/** Mounted at /api/v1/devices (API.md section 8). */
export const deviceRoutes = new Hono<AppEnv>()
  .post("/", adminOnly, validate("json", DeviceCreateSchema), async (c) => {
    const actor = c.get("principal");
    const body = c.req.valid("json");
    assertMakerspace(actor, body.makerspace_id);
    return c.json(await registerDevice(c.get("deps"), actor, body), 201);
  })
  .get("/", adminOnly, validate("query", DeviceListQuerySchema), async (c) => {
    const actor = c.get("principal");
    const q = c.req.valid("query");
    return c.json(await listDevices(c.get("deps"), scopeMakerspace(actor, q.makerspace_id), q));
  })
  .get("/:id", adminOnly, validate("param", DeviceParamSchema), async (c) => {
    return c.json(await getDevice(c.get("deps"), c.get("principal"), c.req.valid("param").id));
  })
  .post("/:id/rotate-token", adminOnly, validate("param", DeviceParamSchema), async (c) => {
    return c.json(await rotateDeviceToken(c.get("deps"), c.get("principal"), c.req.valid("param").id));
  })
  .post("/:id/revoke", adminOnly, validate("param", DeviceParamSchema), async (c) => {
    return c.json(await revokeDevice(c.get("deps"), c.get("principal"), c.req.valid("param").id));
  })
  .post(
    "/:id/heartbeat",
    allowRoles("device"),
    async (c, next) => {
      // Before the body's rules: another device learns nothing from a 422.
      if (c.get("principal").sub !== c.req.param("id")) {
        throw new AppError("forbidden", "Only the device itself may send its heartbeat");
      }
      await next();
    },
    validate("param", DeviceParamSchema),
    validate("json", HeartbeatBodySchema),
    async (c) => {
      const actor = c.get("principal");
      return c.json(await heartbeat(c.get("deps"), actor, c.req.valid("param").id, c.req.valid("json")));
    },
  );

const base = "/api/v1/devices";
const admins = "super_admin, makerspace_admin";
export const deviceDocs: RouteDoc[] = [
  {
    method: "post",
    path: base,
    summary: "Register a controller; its token is shown once",
    tag: "Devices",
    roles: admins,
    body: DeviceCreateSchema,
    responses: { 201: { description: "The device and its token", schema: DeviceWithTokenSchema } },
  },
  {
    method: "get",
    path: base,
    summary: "List devices (with `online` from heartbeats)",
    tag: "Devices",
    roles: admins,
    query: DeviceListQuerySchema,
    responses: { 200: { description: "Devices", schema: DeviceSchema.array() } },
  },
  {
    method: "get",
    path: `${base}/{id}`,
    summary: "Get a device",
    tag: "Devices",
    roles: admins,
    params: DeviceParamSchema,
    responses: { 200: { description: "The device", schema: DeviceSchema } },
  },
  {
    method: "post",
    path: `${base}/{id}/rotate-token`,
    summary: "Issue a new token; every earlier token of the device is rejected (401)",
    tag: "Devices",
    roles: admins,
    params: DeviceParamSchema,
    responses: { 200: { description: "The device and its new token", schema: DeviceWithTokenSchema } },
  },
  {
    method: "post",
    path: `${base}/{id}/revoke`,
    summary: "Revoke a device: every token is rejected within 60 s everywhere (at once on this isolate)",
    tag: "Devices",
    roles: admins,
    params: DeviceParamSchema,
    responses: { 200: { description: "The revoked device", schema: DeviceSchema } },
  },
  {
    method: "post",
    path: `${base}/{id}/heartbeat`,
    summary: "A device reports in; answers the current allow-list version of each of its items",
    tag: "Devices",
    roles: "that device only",
    params: DeviceParamSchema,
    body: HeartbeatBodySchema,
    responses: { 200: { description: "Server time and allow-list versions", schema: HeartbeatSchema } },
  },
];
