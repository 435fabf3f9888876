import { Hono } from "hono";
import { requireAdmin, scopeMakerspace } from "../auth/guards";
import type { AppEnv } from "../context";
import { validate } from "../lib/validate";
import type { RouteDoc } from "../openapi/registry";
import { AuditLogPageSchema, AuditLogQuerySchema } from "../schemas/audit-logs";
import { listAuditLogs } from "../services/audit-logs";

export const auditLogRoutes = new Hono<AppEnv>().get("/", validate("query", AuditLogQuerySchema), async (c) => {
  const actor = c.get("principal");
  requireAdmin(actor);
  const query = c.req.valid("query");
  return c.json(await listAuditLogs(c.get("deps"), scopeMakerspace(actor, query.makerspace_id), query));
});

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
