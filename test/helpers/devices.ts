import { expect } from "vitest";
import { callJson } from "./http";
import { onEveryShard } from "./shards";
import { admin } from "./tokens";

export interface DeviceBody {
  id: string;
  name: string;
  kind: string;
  makerspace_id: string;
  equipment_ids: string[];
  status: string;
  last_seen_at: string | null;
  online: boolean;
  created_at: string;
  updated_at: string;
}

/** Registers a device through the API as an admin of its makerspace. */
export async function registerDevice(
  fields: Partial<{ name: string; kind: string; makerspace_id: string; equipment_ids: string[] }> = {},
): Promise<{ device: DeviceBody; token: string }> {
  const makerspace = fields.makerspace_id ?? "ms-1";
  const res = await callJson<{ device: DeviceBody; token: string }>("POST", "/api/v1/devices", {
    token: await admin(makerspace),
    body: { name: "Door 1", kind: "door", makerspace_id: makerspace, ...fields },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export interface BadgeBody {
  id: string;
  user_id: string;
  makerspace_id: string;
  uid_last4: string;
  created_at: string;
}

export async function registerBadge(badgeUid: string, userId: string, makerspace = "ms-1"): Promise<BadgeBody> {
  const res = await callJson<BadgeBody>("POST", "/api/v1/badges", {
    token: await admin(makerspace),
    body: { badge_uid: badgeUid, user_id: userId, makerspace_id: makerspace },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A random card UID in reader notation (`04:A2:…`, 7 bytes). */
export function randomUid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(7));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

export interface AuditedEvent {
  id: string;
  action: string;
  user_id: string | null;
  makerspace_id: string;
  performed_by: string | null;
  reason: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Every recorded audit event matching `match`: outbox rows (committed with their change) and rows
 * the queue consumer has already moved to the audit table, merged by id.
 */
export async function auditEvents(match: (e: AuditedEvent) => boolean): Promise<AuditedEvent[]> {
  const byId = new Map<string, AuditedEvent>();
  const outbox = await onEveryShard(
    async (db) => (await db.prepare("select payload from audit_outbox").all<{ payload: string }>()).results,
  );
  for (const row of outbox) {
    const e = JSON.parse(row.payload) as AuditedEvent;
    byId.set(e.id, e);
  }
  const logs = await onEveryShard(
    async (db) =>
      (
        await db
          .prepare("select id, action, user_id, makerspace_id, performed_by, reason, metadata from skill_audit_logs")
          .all<Omit<AuditedEvent, "metadata"> & { metadata: string | null }>()
      ).results,
  );
  for (const row of logs) byId.set(row.id, { ...row, metadata: row.metadata ? JSON.parse(row.metadata) : {} });
  return [...byId.values()].filter(match);
}
