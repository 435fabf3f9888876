import { OpenAPIHono, z } from "@hono/zod-openapi";
import { jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import { scopeMakerspace } from "../identity/guards";
import type { AppEnv } from "../platform/context";
import { validationError } from "../platform/errors";
import { EXPORT_COLUMNS, exportUserSkills } from "./export";
import { importCertifications } from "./import/certification-import";
import { ImportBodySchema, ImportQuerySchema, ImportResultSchema, UserSkillExportQuerySchema } from "./import/schemas";

const tags = ["User skills"];

const importRoute = apiRoute({
  method: "post",
  path: "/import",
  tags,
  summary: "Import certifications from a CSV file (each row follows the grant rules)",
  description:
    "Valid rows are applied and failed ones listed (`row` is the record's number, the header being 1); a row that asks for what is stored is `unchanged`, so importing the same file twice changes nothing the second time. Prerequisites may be granted by earlier rows of the file. Each applied row is audited as a grant or renewal, and the import as `certifications_imported`. A broken file (no header, an unknown or repeated column, a quote never closed, more than 10,000 rows) is a 422; a body over 2 MiB a 413.",
  access: { callers: ADMINS, scope: ["makerspace"] },
  budget: "makerspace",
  request: {
    query: ImportQuerySchema,
    body: { required: true, content: { "text/csv": { schema: ImportBodySchema } } },
  },
  responses: { 200: jsonContent(ImportResultSchema, "What was (or, in a dry run, would be) done") },
});

const exportRoute = apiRoute({
  method: "get",
  path: "/export",
  tags,
  summary: "Export certifications as CSV (the list's filters, every matching row, streamed)",
  description: `Columns: ${EXPORT_COLUMNS.join(", ")}; \`status\` is the effective one. Text that a spreadsheet would run as a formula is prefixed with \`'\`.`,
  access: { callers: ADMINS, scope: ["makerspace"] },
  budget: "makerspace",
  request: { query: UserSkillExportQuerySchema },
  responses: { 200: { description: "CSV, header first", content: { "text/csv": { schema: z.string() } } } },
});

/** Mounted at /api/v1/skills/user-skills, before the routes with `/{id}`. */
export const userSkillTransferRoutes = new OpenAPIHono<AppEnv>()
  .openapi(importRoute, async (c) => {
    const q = c.req.valid("query");
    const principal = c.get("principal");
    const makerspaceId = scopeMakerspace(principal, q.makerspace_id);
    if (makerspaceId === undefined) {
      throw validationError([{ path: "makerspace_id", message: "is required for a super_admin" }]);
    }
    const body = await c.req.arrayBuffer();
    return c.json(await importCertifications(c.get("deps"), principal, makerspaceId, body, q.dry_run), 200);
  })
  .openapi(exportRoute, async (c) => {
    const stream = await exportUserSkills(c.get("deps"), c.get("principal"), c.req.valid("query"));
    return c.body(stream, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": 'attachment; filename="certifications.csv"',
    });
  });
