import { OpenAPIHono } from "@hono/zod-openapi";
import { jsonContent, streamedBody } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { scopeMakerspace } from "../identity/guards";
import type { AppEnv, Deps } from "../platform/context";
import { keysetAcrossShards } from "../platform/db/fan-out";
import { validationError } from "../platform/errors";
import {
  AuditExportQuerySchema,
  type AuditLog,
  AuditLogPageSchema,
  AuditLogQuerySchema,
  AuditLogSchema,
} from "./audit.schemas";
import { DEAD_LETTER_ORDER, listDeadLetters, retryDeadLetter } from "./dead-letters";
import {
  type DeadLetter,
  DeadLetterPageSchema,
  DeadLetterParamSchema,
  DeadLetterQuerySchema,
  DeadLetterRetriedSchema,
} from "./dead-letters.schemas";
import { exportAuditNdjson } from "./export";
import { AUDIT_LOG_ORDER, encodeCursor, listAuditLogs } from "./log";

const list = apiRoute({
  method: "get",
  path: "/",
  tags: ["Audit"],
  summary: "Read the audit log, newest first, with cursor paging",
  access: { callers: ADMINS, scope: ["makerspace"] },
  request: { query: AuditLogQuerySchema },
  responses: { 200: jsonContent(AuditLogPageSchema, "A page of audit events") },
});

/**
 * Typed as a plain string on purpose: @hono/zod-openapi types a `application/…json` media type
 * whose prefix is not `vnd.`/`+` (as in `x-ndjson`) as a response no handler can return; as a
 * string key the handler returns a plain `Response`, as for HTML.
 */
const NDJSON: string = "application/x-ndjson";

const exportRoute = apiRoute({
  method: "get",
  path: "/export",
  tags: ["Audit"],
  summary: "Every event in the range as NDJSON, oldest first, streamed: D1 and the R2 archive of access events",
  description:
    "One `AuditLog` object per line (`application/x-ndjson`), in (`created_at`, `id`) order, each event once. " +
    "Access events older than `ACCESS_EVENT_RETENTION_DAYS` are read from the R2 archive. A stream that fails " +
    "midway is cut off (the connection is aborted), never ended as if complete.",
  access: { callers: ADMINS, scope: ["makerspace"] },
  budget: "makerspace",
  request: { query: AuditExportQuerySchema },
  responses: {
    200: {
      description: "NDJSON: one AuditLog per line",
      content: { [NDJSON]: { schema: AuditLogSchema } },
    },
  },
});

const deadLetters = apiRoute({
  method: "get",
  path: "/dead-letters",
  tags: ["Audit"],
  summary: "Audit events the relay gave up on after 10 attempts (newest first)",
  access: { callers: ["super_admin"], scope: [] },
  request: { query: DeadLetterQuerySchema },
  responses: { 200: jsonContent(DeadLetterPageSchema, "A page of dead letters") },
});

const retry = apiRoute({
  method: "post",
  path: "/dead-letters/{id}/retry",
  tags: ["Audit"],
  summary: "Put a dead letter back on the way to the audit log",
  access: { callers: ["super_admin"], scope: [] },
  request: { params: DeadLetterParamSchema },
  responses: { 200: jsonContent(DeadLetterRetriedSchema, "Re-queued") },
  errors: ["not_found", "invalid_state"],
});

/** Mounted at /api/v1/skills/audit-logs. */
export const auditLogRoutes = new OpenAPIHono<AppEnv>()
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const makerspaceId = scopeMakerspace(c.get("principal"), query.makerspace_id);
    const page = (deps: Deps) => listAuditLogs(deps, makerspaceId, query);
    const everywhere = makerspaceId === undefined;
    const cursorOf = (a: AuditLog) => encodeCursor({ createdAt: a.created_at, id: a.id });
    return c.json(
      await keysetAcrossShards(c.get("deps"), everywhere, query.limit, page, AUDIT_LOG_ORDER, cursorOf),
      200,
    );
  })
  .openapi(deadLetters, async (c) => {
    const query = c.req.valid("query");
    const page = (deps: Deps) => listDeadLetters(deps, query);
    const everywhere = query.makerspace_id === undefined;
    const cursorOf = (d: DeadLetter) => encodeCursor({ createdAt: d.failed_at, id: d.id });
    return c.json(
      await keysetAcrossShards(c.get("deps"), everywhere, query.limit, page, DEAD_LETTER_ORDER, cursorOf),
      200,
    );
  })
  .openapi(exportRoute, async (c) => {
    const { makerspace_id, ...query } = c.req.valid("query");
    const makerspaceId = scopeMakerspace(c.get("principal"), makerspace_id);
    if (!makerspaceId) throw validationError([{ path: "makerspace_id", message: "is required" }]);
    // One makerspace: the request is routed to its shard, so the D1 part reads there.
    return streamedBody(await exportAuditNdjson(c.get("deps"), makerspaceId, query), {
      "content-type": `${NDJSON}; charset=utf-8`,
      "content-disposition": 'attachment; filename="audit-log.ndjson"',
    });
  })
  .openapi(retry, async (c) => c.json(await retryDeadLetter(c.get("deps"), c.req.valid("param").id), 200));
