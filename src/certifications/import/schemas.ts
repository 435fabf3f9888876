import { z } from "@hono/zod-openapi";
import { MakerspaceIdSchema } from "../../http/common.schemas";
import { UserSkillListQuerySchema } from "../certifications.schemas";

/** The columns an import reads; any other header is refused (a typo must never be ignored). */
export const IMPORT_COLUMNS = [
  "user_id",
  "skill_id",
  "skill_name",
  "expires_at",
  "certified_at",
  "notes",
  "quiz_score",
  "status",
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** Data rows per file (the header not counted). */
export const MAX_IMPORT_ROWS = 10_000;

/** The import's own body limit (every other body: 64 KiB). */
export const MAX_IMPORT_BYTES = 2 * 1024 * 1024;

export const IMPORT_EXAMPLE = [
  "user_id,skill_name,expires_at,notes,quiz_score",
  "member-001,Laser Safety Certification,2027-06-30,Passed practical exam,95%",
  'member-002,Laser Safety Certification,,"Induction, evening session",88%',
].join("\r\n");

export const ImportBodySchema = z.string().openapi({
  description: `CSV (RFC 4180), header row first, columns in any order: ${IMPORT_COLUMNS.join(", ")} — \`user_id\` and \`skill_id\` or \`skill_name\` required. At most ${MAX_IMPORT_ROWS} rows and 2 MiB. Dates may be plain days (\`2027-06-30\`: \`expires_at\` then means the end of that UTC day).`,
  example: IMPORT_EXAMPLE,
});

export const ImportQuerySchema = z.strictObject({
  dry_run: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true")
    .openapi({ description: "`true`: check every row and report what would happen, change nothing" }),
  makerspace_id: MakerspaceIdSchema.optional().openapi({
    description: "The makerspace whose skills the file names: the caller's own by default; required for a super_admin",
  }),
});
export type ImportQuery = z.infer<typeof ImportQuerySchema>;

export const ImportErrorSchema = z
  .object({
    row: z.number().int().openapi({ description: "The record's number in the file; the header is record 1" }),
    column: z.enum(IMPORT_COLUMNS).optional(),
    message: z.string(),
  })
  .openapi("ImportRowError");

export const ImportResultSchema = z
  .object({
    dry_run: z.boolean(),
    created: z.number().int(),
    renewed: z.number().int(),
    unchanged: z.number().int(),
    failed: z.number().int().openapi({ description: "Rows not applied; each has at least one entry in `errors`" }),
    errors: z.array(ImportErrorSchema),
  })
  .openapi("ImportResult");
export type ImportResult = z.infer<typeof ImportResultSchema>;

/** The list's filters, without paging: an export is every matching certification. */
export const UserSkillExportQuerySchema = UserSkillListQuerySchema.omit({ limit: true, offset: true });
export type UserSkillExportQuery = z.infer<typeof UserSkillExportQuerySchema>;
