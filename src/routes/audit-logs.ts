import { OpenAPIHono } from "@hono/zod-openapi";
import { ADMINS } from "../auth/access";
import { scopeMakerspace } from "../auth/guards";
import type { AppEnv } from "../context";
import { apiRoute } from "../openapi/route";
import { AuditLogPageSchema, AuditLogQuerySchema } from "../schemas/audit-logs";
import { listAuditLogs } from "../services/audit-logs";
import { jsonContent } from "./content";

const list = apiRoute({
  method: "get",
  path: "/",
  tags: ["Audit"],
  summary: "Read the audit log, newest first, with cursor paging",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { query: AuditLogQuerySchema },
  responses: { 200: jsonContent(AuditLogPageSchema, "A page of audit events") },
});

/** Mounted at /api/v1/skills/audit-logs. */
export const auditLogRoutes = new OpenAPIHono<AppEnv>().openapi(list, async (c) => {
  const query = c.req.valid("query");
  const makerspaceId = scopeMakerspace(c.get("principal"), query.makerspace_id);
  return c.json(await listAuditLogs(c.get("deps"), makerspaceId, query), 200);
});
