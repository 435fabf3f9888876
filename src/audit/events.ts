import { z } from "zod";
import type { Deps } from "../platform/context";
import { newId } from "../platform/ids";
import { iso } from "../platform/time";

/** Every audited action (docs/API.md, "Audit log"). */
export const AUDIT_ACTIONS = [
  "skill_created",
  "skill_updated",
  "equipment_created",
  "equipment_updated",
  "skill_granted",
  "skill_renewed",
  "skill_revoked",
  "skill_expired",
  "request_created",
  "request_approved",
  "request_rejected",
  "access_granted",
  "access_denied",
  "device_registered",
  "device_revoked",
  "device_token_rotated",
  "badge_registered",
  "badge_removed",
  "instructor_added",
  "instructor_removed",
  "webhook_created",
  "webhook_updated",
  "webhook_deleted",
  "webhook_disabled",
  "certifications_imported",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The message body on the audit queue; also the outbox payload. Its id is made at the source. */
export const AuditEventSchema = z.object({
  id: z.string().min(1).max(100),
  action: z.enum(AUDIT_ACTIONS),
  user_id: z.string().nullable(),
  skill_id: z.string().nullable(),
  makerspace_id: z.string().min(1),
  performed_by: z.string().nullable(),
  reason: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

export interface EventFields {
  action: AuditAction;
  makerspaceId: string;
  userId?: string | null;
  skillId?: string | null;
  performedBy?: string | null;
  reason?: string | null;
  /** Ids, scores and flags only: never secrets, badge UIDs or personal details. */
  metadata?: Record<string, unknown>;
}

export function newEvent(deps: Pick<Deps, "now" | "shard">, f: EventFields): AuditEvent {
  return {
    id: newId("evt", deps),
    action: f.action,
    user_id: f.userId ?? null,
    skill_id: f.skillId ?? null,
    makerspace_id: f.makerspaceId,
    performed_by: f.performedBy ?? null,
    reason: f.reason ?? null,
    metadata: f.metadata ?? {},
    created_at: iso(deps.now),
  };
}
