import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ADMINS } from "../auth/access";
import { scopeMakerspace } from "../auth/guards";
import type { AppEnv } from "../context";
import { apiRoute } from "../openapi/route";
import { AuditExportQuerySchema, AuditLogPageSchema, AuditLogQuerySchema } from "../schemas/audit-logs";
import { exportAuditLogs } from "../services/audit-export";
import { listAuditLogs } from "../services/audit-logs";
import { jsonContent, streamedBody } from "./content";

const list = apiRoute({
  method: "get",
  path: "/",
  tags: ["Audit"],
  summary: "Read the audit log, newest first, with cursor paging",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { query: AuditLogQuerySchema },
  responses: { 200: jsonContent(AuditLogPageSchema, "A page of audit events") },
});

const exportRoute = apiRoute({
  method: "get",
  path: "/export",
  tags: ["Audit"],
  summary: "Export audit events as NDJSON (oldest first, every matching event, streamed)",
  description: "One AuditLog object per line, in `created_at` then `id` order.",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { query: AuditExportQuerySchema },
  responses: {
    200: { description: "NDJSON", content: { "application/x-ndjson": { schema: z.string() } } },
  },
});

/** Mounted at /api/v1/skills/audit-logs. */
export const auditLogRoutes = new OpenAPIHono<AppEnv>()
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const makerspaceId = scopeMakerspace(c.get("principal"), query.makerspace_id);
    return c.json(await listAuditLogs(c.get("deps"), makerspaceId, query), 200);
  })
  .openapi(exportRoute, async (c) => {
    const query = c.req.valid("query");
    const makerspaceId = scopeMakerspace(c.get("principal"), query.makerspace_id);
    const stream = await exportAuditLogs(c.get("deps"), makerspaceId, query);
    return streamedBody(stream, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": 'attachment; filename="audit-log.ndjson"',
    });
  });
