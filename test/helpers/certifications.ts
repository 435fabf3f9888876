import { env } from "cloudflare:workers";
import { userSkillsKey } from "../../src/certifications/cache";
import { type CallOptions, callJson } from "./http";
import { onEveryShard } from "./shards";
import { admin } from "./tokens";

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface UserSkillBody {
  id: string;
  user_id: string;
  skill_id: string;
  skill_name: string;
  makerspace_id: string;
  status: string;
  certified_at: string | null;
  expires_at: string | null;
  certified_by: string | null;
  notes: string | null;
  quiz_score: string | null;
  created_at: string;
  updated_at: string;
}

export interface RequestBody {
  id: string;
  user_id: string;
  skill_id: string;
  skill_name: string;
  makerspace_id: string;
  status: string;
  reason: string | null;
  notes: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A user id unique to the calling test, so tests in one file never see each other's rows. */
export function uniqueUser(prefix = "user"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function grant(body: Record<string, unknown>, opts: CallOptions = {}) {
  return callJson<UserSkillBody>("POST", "/api/v1/skills/user-skills", {
    token: await admin(),
    ...opts,
    body,
  });
}

export async function createRequest(body: Record<string, unknown>, opts: CallOptions = {}) {
  return callJson<RequestBody>("POST", "/api/v1/skills/requests", { token: await admin(), ...opts, body });
}

export async function review(id: string, body: Record<string, unknown>, opts: CallOptions = {}) {
  return callJson<RequestBody>("PUT", `/api/v1/skills/requests/${id}`, { token: await admin(), ...opts, body });
}

export interface AuditRecord {
  id: string;
  action: string;
  user_id: string | null;
  skill_id: string | null;
  makerspace_id: string;
  performed_by: string | null;
  reason: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Every audit event recorded for a user: outbox rows (written with the change) and rows the
 * queue consumer has already moved to the audit table, merged by event id.
 */
export async function auditFor(userId: string): Promise<AuditRecord[]> {
  const byId = new Map<string, AuditRecord>();
  const outbox = await onEveryShard(
    async (db) => (await db.prepare("select payload from audit_outbox").all<{ payload: string }>()).results,
  );
  for (const row of outbox) {
    const e = JSON.parse(row.payload) as AuditRecord;
    if (e.user_id === userId) byId.set(e.id, e);
  }
  const logs = await onEveryShard(
    async (db) =>
      (
        await db
          .prepare(
            "select id, action, user_id, skill_id, makerspace_id, performed_by, reason, metadata from skill_audit_logs where user_id = ?",
          )
          .bind(userId)
          .all<Omit<AuditRecord, "metadata"> & { metadata: string | null }>()
      ).results,
  );
  for (const row of logs) {
    byId.set(row.id, { ...row, metadata: row.metadata ? JSON.parse(row.metadata) : {} });
  }
  return [...byId.values()];
}

export async function auditActions(userId: string): Promise<string[]> {
  return (await auditFor(userId)).map((e) => e.action).sort();
}

export async function userSkillRows(userId: string, skillId: string) {
  return onEveryShard(
    async (db) =>
      (await db.prepare("select * from user_skills where user_id = ? and skill_id = ?").bind(userId, skillId).all())
        .results,
  );
}

/** The raw KV entry the access checks read (the member of ms-1 unless told). */
export async function cachedSkillIds(userId: string, makerspaceId = "ms-1"): Promise<string[] | null> {
  const entry = await env.USER_SKILLS_CACHE.get<{ certifications: { skill_id: string }[] }>(
    userSkillsKey(makerspaceId, userId),
    "json",
  );
  return entry ? entry.certifications.map((c) => c.skill_id).sort() : null;
}
