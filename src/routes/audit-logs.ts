import { Hono } from "hono";
import { scopeMakerspace } from "../auth/guards";
import type { AppEnv } from "../context";
import { validate } from "../lib/validate";
import { adminOnly } from "../middleware/auth";
import type { RouteDoc } from "../openapi/registry";
import { AuditLogPageSchema, AuditLogQuerySchema } from "../schemas/audit-logs";
import { listAuditLogs } from "../services/audit-logs";

export const auditLogRoutes = new Hono<AppEnv>().get(
  "/",
  adminOnly,
  validate("query", AuditLogQuerySchema),
  async (c) => {
    const actor = c.get("principal");
    const query = c.req.valid("query");
    return c.json(await listAuditLogs(c.get("deps"), scopeMakerspace(actor, query.makerspace_id), query));
  },
);

export const auditLogDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/api/v1/skills/audit-logs",
    summary: "Read the audit log, newest first, with cursor paging",
    tag: "Audit",
    roles: "super_admin, makerspace_admin (own makerspace)",
    query: AuditLogQuerySchema,
    responses: { 200: { description: "A page of audit events", schema: AuditLogPageSchema } },
  },
];
