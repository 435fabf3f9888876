import { and, desc, eq, gte, lte, type SQL } from "drizzle-orm";
import type { Deps } from "../platform/context";
import { pastPosition } from "../platform/db/client";
import { byKeys } from "../platform/db/fan-out";
import { type AuditLogRow, skillAuditLogs } from "../platform/db/schema";
import { validationError } from "../platform/errors";
import type { AuditLog, AuditLogPage, AuditLogQuery } from "./audit.schemas";
import type { AuditAction } from "./events";

interface Position {
  createdAt: string;
  id: string;
}

const SEPARATOR = "|";

export function encodeCursor(p: Position): string {
  const bytes = new TextEncoder().encode(`${p.createdAt}${SEPARATOR}${p.id}`);
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The `created_at` part of a cursor: the shape `toISOString()` writes (the cursor pattern's head). */
const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A cursor back to its position; 422 on anything not of the form this service produces. The
 * check is on shape only (any such position orders the keyset), so exactly the strings of
 * `CURSOR_PATTERN` decode: bytes that are not UTF-8 in the id are read as U+FFFD, not refused.
 */
export function decodeCursor(cursor: string): Position {
  try {
    const binary = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const text = new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
    const at = text.indexOf(SEPARATOR);
    const createdAt = text.slice(0, at);
    const id = text.slice(at + 1);
    if (at > 0 && id.length > 0 && CREATED_AT.test(createdAt)) return { createdAt, id };
  } catch {
    // falls through to the validation error
  }
  throw validationError([{ path: "cursor", message: "is not a valid cursor" }]);
}

export function toAuditLog(row: AuditLogRow): AuditLog {
  return {
    id: row.id,
    action: row.action as AuditAction,
    user_id: row.userId,
    skill_id: row.skillId,
    makerspace_id: row.makerspaceId,
    performed_by: row.performedBy,
    reason: row.reason,
    metadata: parseMetadata(row.metadata),
    created_at: row.createdAt,
  };
}

function parseMetadata(json: string | null): Record<string, unknown> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** The filters of a read or an export of the log (the paging fields aside). */
export type AuditFilter = Pick<AuditLogQuery, "user_id" | "skill_id" | "action" | "performed_by" | "since" | "until">;

/** `makerspaceId` undefined only for a super_admin reading every makerspace. */
export function auditConditions(makerspaceId: string | undefined, q: AuditFilter): SQL[] {
  const where: SQL[] = [];
  if (makerspaceId) where.push(eq(skillAuditLogs.makerspaceId, makerspaceId));
  if (q.user_id) where.push(eq(skillAuditLogs.userId, q.user_id));
  if (q.skill_id) where.push(eq(skillAuditLogs.skillId, q.skill_id));
  if (q.action) where.push(eq(skillAuditLogs.action, q.action));
  if (q.performed_by) where.push(eq(skillAuditLogs.performedBy, q.performed_by));
  if (q.since) where.push(gte(skillAuditLogs.createdAt, q.since));
  if (q.until) where.push(lte(skillAuditLogs.createdAt, q.until));
  return where;
}

/**
 * The select behind one page (`limit + 1` rows, to know whether another page follows). Every
 * filter has an index that also gives the order: (makerspace, created_at, id), (user_id,
 * created_at, id) and (makerspace, action, created_at, id).
 */
export function auditLogQuery(deps: Pick<Deps, "db">, makerspaceId: string | undefined, q: AuditLogQuery) {
  const where: (SQL | undefined)[] = auditConditions(makerspaceId, q);
  if (q.cursor) where.push(pastPosition(skillAuditLogs.createdAt, skillAuditLogs.id, decodeCursor(q.cursor), "desc"));
  return deps.db
    .select()
    .from(skillAuditLogs)
    .where(and(...where))
    .orderBy(desc(skillAuditLogs.createdAt), desc(skillAuditLogs.id))
    .limit(q.limit + 1);
}

/** The log's order (newest first), for merging shards' pages. */
export const AUDIT_LOG_ORDER = byKeys<AuditLog>([(a) => a.created_at, "desc"], [(a) => a.id, "desc"]);

/**
 * One page of the audit log, newest first (`created_at` desc, then `id` desc, so events of the
 * same millisecond page stably). Keyset paging: a page stays correct while new events arrive.
 * `makerspaceId` undefined only for a super_admin reading every makerspace.
 */
export async function listAuditLogs(
  deps: Deps,
  makerspaceId: string | undefined,
  q: AuditLogQuery,
): Promise<AuditLogPage> {
  const rows = await auditLogQuery(deps, makerspaceId, q).all();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toAuditLog),
    next_cursor: rows.length > q.limit && last ? encodeCursor(last) : null,
  };
}
