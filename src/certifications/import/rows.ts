import { z } from "zod";
import { IdSchema, UserIdSchema } from "../../http/common.schemas";
import { isBlankRecord, parseCsv } from "../../platform/csv";
import { type FieldError, validationError } from "../../platform/errors";
import { NotesSchema } from "../certifications.schemas";
import { IMPORT_COLUMNS, type ImportColumn, MAX_IMPORT_ROWS } from "./schemas";

export interface RowError {
  /** The record's number in the file; the header is record 1. */
  row: number;
  column?: ImportColumn;
  message: string;
}

/** A row whose cells are each valid on their own; the rules that need stored data come later. */
export interface ImportRow {
  row: number;
  userId: string;
  skillId?: string;
  skillName?: string;
  status: "certified" | "pending";
  expiresAt?: string;
  certifiedAt?: string;
  notes?: string;
  quizScore?: string;
}

export interface ParsedImport {
  rows: ImportRow[];
  errors: RowError[];
  /** Non-blank data records: valid rows plus rows that failed here. */
  records: number;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = z.iso.datetime({ offset: true });

/**
 * A timestamp cell: ISO-8601 with a zone, or a plain date as spreadsheets write it — the start of
 * that UTC day for `certified_at`, its last millisecond for `expires_at` ("valid through June 30").
 */
function timestampCell(value: string, endOfDay: boolean): string | undefined {
  if (DATE_ONLY.test(value)) {
    const day = new Date(`${value}T00:00:00.000Z`);
    if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) return undefined;
    return endOfDay ? new Date(day.getTime() + 86_400_000 - 1).toISOString() : day.toISOString();
  }
  return TIMESTAMP.safeParse(value).success ? new Date(value).toISOString() : undefined;
}

const TIMESTAMP_MESSAGE = "must be an ISO-8601 timestamp (2027-06-30T23:59:59Z) or a date (2027-06-30)";

function firstIssue(result: { success: false; error: z.ZodError }): string {
  return result.error.issues[0]?.message ?? "is invalid";
}

/** The header: known columns only, each once, `user_id` and a skill column present (else 422). */
function readHeader(fields: string[]): ImportColumn[] {
  const problems: FieldError[] = [];
  const columns: ImportColumn[] = [];
  for (const raw of fields) {
    const name = raw.trim().toLowerCase();
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name)) {
      problems.push({
        path: "header",
        message: `unknown column "${raw.slice(0, 50)}" (known: ${IMPORT_COLUMNS.join(", ")})`,
      });
    } else if (columns.includes(name as ImportColumn)) {
      problems.push({ path: "header", message: `column ${name} appears twice` });
    }
    columns.push(name as ImportColumn);
  }
  if (!columns.includes("user_id")) problems.push({ path: "header", message: "a user_id column is required" });
  if (!columns.includes("skill_id") && !columns.includes("skill_name")) {
    problems.push({ path: "header", message: "a skill_id or skill_name column is required" });
  }
  if (fields.length === 1 && fields[0]?.includes(";")) {
    problems.push({ path: "header", message: "fields must be separated by commas, not semicolons" });
  }
  if (problems.length > 0) throw validationError(problems, "The CSV header is not valid");
  return columns;
}

/** One record's cells → a row, or the errors of its cells. */
function readRow(number: number, columns: ImportColumn[], fields: string[], nowIso: string): ImportRow | RowError[] {
  const errors: RowError[] = [];
  const cell = (column: ImportColumn): string | undefined => {
    const at = columns.indexOf(column);
    const value = at === -1 ? undefined : fields[at]?.trim();
    return value === "" ? undefined : value;
  };
  const fail = (column: ImportColumn, message: string) => errors.push({ row: number, column, message });

  const userId = UserIdSchema.safeParse(cell("user_id") ?? "");
  if (!userId.success) fail("user_id", firstIssue(userId));
  const skillId = cell("skill_id");
  const skillName = cell("skill_name");
  if (skillId === undefined && skillName === undefined) {
    fail(columns.includes("skill_id") ? "skill_id" : "skill_name", "is required (skill_id or skill_name)");
  }
  if (skillId !== undefined && !IdSchema.safeParse(skillId).success) fail("skill_id", "is too long");
  if (skillName !== undefined && skillName.length > 100) fail("skill_name", "must be at most 100 characters");

  const statusCell = cell("status")?.toLowerCase() ?? "certified";
  if (statusCell !== "certified" && statusCell !== "pending") fail("status", "must be certified or pending");
  const status = statusCell === "pending" ? "pending" : "certified";

  const timestamp = (column: "expires_at" | "certified_at", endOfDay: boolean): string | undefined => {
    const value = cell(column);
    if (value === undefined) return undefined;
    if (status === "pending") {
      fail(column, "must be empty when status is pending");
      return undefined;
    }
    const parsed = timestampCell(value, endOfDay);
    if (parsed === undefined) fail(column, TIMESTAMP_MESSAGE);
    return parsed;
  };
  const expiresAt = timestamp("expires_at", true);
  const certifiedAt = timestamp("certified_at", false);
  if (certifiedAt !== undefined && certifiedAt > nowIso) fail("certified_at", "must not be in the future");
  if (certifiedAt !== undefined && expiresAt !== undefined && expiresAt <= certifiedAt) {
    fail("expires_at", "must be after certified_at");
  }

  const notes = cell("notes");
  const notesCheck = NotesSchema.safeParse(notes ?? "");
  if (!notesCheck.success) fail("notes", firstIssue(notesCheck));
  const quizScore = cell("quiz_score");
  if (quizScore !== undefined && quizScore.length > 10) fail("quiz_score", "must be at most 10 characters");

  if (errors.length > 0 || !userId.success) return errors;
  return {
    row: number,
    userId: userId.data,
    status,
    ...(skillId !== undefined ? { skillId } : {}),
    ...(skillName !== undefined ? { skillName } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(certifiedAt !== undefined ? { certifiedAt } : {}),
    ...(notes !== undefined ? { notes } : {}),
    ...(quizScore !== undefined ? { quizScore } : {}),
  };
}

/**
 * The CSV body → rows and per-row errors. Whole-file problems are a 422 `validation_error`: no
 * header, an unknown or repeated column, a quote never closed, more than 10,000 rows. Blank lines
 * are skipped (their numbers still count, so rows keep the numbers a spreadsheet shows).
 */
export function parseImport(text: string, nowIso: string): ParsedImport {
  let columns: ImportColumn[] | undefined;
  const rows: ImportRow[] = [];
  const errors: RowError[] = [];
  let records = 0;
  for (const record of parseCsv(text)) {
    if (record.unterminated) {
      throw validationError(
        [{ path: "body", message: `record ${record.number}: ${record.error}` }],
        "The CSV is not valid",
      );
    }
    if (!columns) {
      if (record.error)
        throw validationError([{ path: "header", message: record.error }], "The CSV header is not valid");
      columns = readHeader(record.fields);
      continue;
    }
    if (isBlankRecord(record)) continue;
    records += 1;
    if (records > MAX_IMPORT_ROWS) {
      throw validationError(
        [{ path: "body", message: `at most ${MAX_IMPORT_ROWS} rows per file` }],
        "The CSV has too many rows",
      );
    }
    if (record.error) {
      errors.push({ row: record.number, message: record.error });
      continue;
    }
    if (record.fields.length > columns.length) {
      errors.push({
        row: record.number,
        message: `has ${record.fields.length} fields; the header has ${columns.length}`,
      });
      continue;
    }
    const row = readRow(record.number, columns, record.fields, nowIso);
    if (Array.isArray(row)) errors.push(...row);
    else rows.push(row);
  }
  if (!columns) throw validationError([{ path: "header", message: "a header row is required" }], "The CSV is empty");
  return { rows, errors, records };
}
