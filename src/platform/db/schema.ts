import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The single source of the database schema: drizzle-kit generates `migrations/` from it.
 *
 * Timestamps are ISO-8601 UTC strings with milliseconds (`2026-01-15T10:30:00.000Z`), so they
 * sort and compare correctly as text. Enumerations are plain text checked by the zod schemas.
 */

export const skills = sqliteTable(
  "skills",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    category: text("category").notNull(),
    level: text("level", { enum: ["beginner", "intermediate", "advanced", "expert"] }).notNull(),
    description: text("description"),
    status: text("status", { enum: ["active", "inactive", "archived"] })
      .notNull()
      .default("active"),
    makerspaceId: text("makerspace_id").notNull(),
    /**
     * How long its certifications last (the skill's `validity`): `duration` with `validity_days`
     * (null: SKILL_CERTIFICATION_EXPIRY_DAYS), `never`, `fixed_date` with `validity_date`
     * (`YYYY-MM-DD`), `renew_on_use` with `validity_days`.
     */
    validityMode: text("validity_mode", { enum: ["duration", "never", "fixed_date", "renew_on_use"] })
      .notNull()
      .default("duration"),
    validityDays: integer("validity_days"),
    validityDate: text("validity_date"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("uq_skills_makerspace_name").on(t.makerspaceId, sql`lower(${t.name})`),
    index("idx_skills_makerspace_category").on(t.makerspaceId, t.category),
  ],
);

export const equipment = sqliteTable(
  "equipment",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    makerspaceId: text("makerspace_id").notNull(),
    category: text("category"),
    location: text("location"),
    status: text("status", { enum: ["available", "maintenance", "retired"] })
      .notNull()
      .default("available"),
    /**
     * The offline allow-list's version counter: bumped in the same batch as every change that may
     * alter the item's list (`allowlistBumps`), so a heartbeat reads versions instead of
     * recomputing lists. A new item starts at 0, so every item has one.
     */
    allowlistVersion: integer("allowlist_version").notNull().default(0),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("idx_equipment_makerspace_status").on(t.makerspaceId, t.status)],
);

export const skillPrerequisites = sqliteTable(
  "skill_prerequisites",
  {
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id),
    prerequisiteId: text("prerequisite_id")
      .notNull()
      .references(() => skills.id),
  },
  (t) => [primaryKey({ columns: [t.skillId, t.prerequisiteId] })],
);

export const skillEquipment = sqliteTable(
  "skill_equipment",
  {
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id),
    equipmentId: text("equipment_id")
      .notNull()
      .references(() => equipment.id),
  },
  (t) => [
    primaryKey({ columns: [t.skillId, t.equipmentId] }),
    index("idx_skill_equipment_equipment").on(t.equipmentId),
  ],
);

export const userSkills = sqliteTable(
  "user_skills",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id),
    makerspaceId: text("makerspace_id").notNull(),
    status: text("status", { enum: ["pending", "certified", "expired", "revoked"] }).notNull(),
    certifiedAt: text("certified_at"),
    expiresAt: text("expires_at"),
    certifiedBy: text("certified_by"),
    notes: text("notes"),
    quizScore: text("quiz_score"),
    /** When a `verify` last renewed it (renew_on_use skills): at most one such write an hour. */
    lastUseRenewalAt: text("last_use_renewal_at"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("uq_user_skills_user_skill").on(t.userId, t.skillId),
    index("idx_user_skills_user_status").on(t.userId, t.status),
    index("idx_user_skills_skill_status").on(t.skillId, t.status),
    index("idx_user_skills_status_expires").on(t.status, t.expiresAt),
    index("idx_user_skills_makerspace_user").on(t.makerspaceId, t.userId),
    // The list's and the export's order within a makerspace (keyset pages are range reads).
    index("idx_user_skills_makerspace_created").on(t.makerspaceId, t.createdAt, t.id),
  ],
);

export const skillRequests = sqliteTable(
  "skill_requests",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id),
    makerspaceId: text("makerspace_id").notNull(),
    status: text("status", { enum: ["pending", "approved", "rejected"] }).notNull(),
    reason: text("reason"),
    notes: text("notes"),
    reviewedBy: text("reviewed_by"),
    reviewedAt: text("reviewed_at"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("idx_skill_requests_status").on(t.status, t.createdAt),
    index("idx_skill_requests_makerspace_user").on(t.makerspaceId, t.userId),
    // At most one pending request per user and skill, enforced by the database so racing
    // creations cannot both succeed.
    uniqueIndex("uq_skill_requests_pending").on(t.userId, t.skillId).where(sql`status = 'pending'`),
  ],
);

/**
 * Instructors: a member assigned to a skill may certify others in it. The
 * skill's makerspace is repeated so "the skills I instruct" is one indexed read.
 */
export const skillInstructors = sqliteTable(
  "skill_instructors",
  {
    skillId: text("skill_id")
      .notNull()
      .references(() => skills.id),
    userId: text("user_id").notNull(),
    makerspaceId: text("makerspace_id").notNull(),
    createdAt: text("created_at").notNull(),
    createdBy: text("created_by").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.skillId, t.userId] }),
    index("idx_skill_instructors_makerspace_user").on(t.makerspaceId, t.userId),
  ],
);

/** Written only by the audit queue consumer (and the verify fallback); never updated. */
export const skillAuditLogs = sqliteTable(
  "skill_audit_logs",
  {
    id: text("id").primaryKey(),
    action: text("action").notNull(),
    userId: text("user_id"),
    skillId: text("skill_id"),
    makerspaceId: text("makerspace_id").notNull(),
    performedBy: text("performed_by"),
    reason: text("reason"),
    metadata: text("metadata"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("idx_skill_audit_logs_date").on(t.createdAt),
    index("idx_skill_audit_logs_makerspace_date").on(t.makerspaceId, t.createdAt, t.id),
    // The audit-log filters: a member's trail (any makerspace, for a super_admin too) and one
    // action in a makerspace, each read newest first without a sort.
    index("idx_skill_audit_logs_user_date").on(t.userId, t.createdAt, t.id),
    index("idx_skill_audit_logs_makerspace_action_date").on(t.makerspaceId, t.action, t.createdAt, t.id),
    // Retention deletes access events after ACCESS_EVENT_RETENTION_DAYS, years before the other
    // events: this index reaches them without stepping over the older change events.
    index("idx_skill_audit_logs_access_date").on(t.createdAt).where(sql`action in ('access_granted', 'access_denied')`),
  ],
);

/**
 * Transactional outbox: an event is inserted here in the same `db.batch` as the change it
 * records, then sent to the audit queue. The consumer deletes the row once the audit row is
 * written; the cron re-sends rows left behind by a failed send or a stopped Worker.
 */
export const auditOutbox = sqliteTable(
  "audit_outbox",
  {
    id: text("id").primaryKey(),
    payload: text("payload").notNull(),
    createdAt: text("created_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
  },
  (t) => [index("idx_audit_outbox_created").on(t.createdAt)],
);

/**
 * Audit events the relay gave up on: an outbox row still there after MAX_RELAY_ATTEMPTS sends (its
 * consumer keeps failing), or one whose payload cannot be read. Kept for an operator to inspect
 * and re-queue; `makerspace_id` and `action` are copied out of the payload when it is readable.
 */
export const auditDeadLetters = sqliteTable(
  "audit_dead_letters",
  {
    /** The event's id (its outbox row's id). */
    id: text("id").primaryKey(),
    payload: text("payload").notNull(),
    makerspaceId: text("makerspace_id"),
    action: text("action"),
    /** When the event first entered the outbox. */
    createdAt: text("created_at").notNull(),
    attempts: integer("attempts").notNull(),
    failedAt: text("failed_at").notNull(),
    reason: text("reason").notNull(),
  },
  (t) => [index("idx_audit_dead_letters_failed").on(t.failedAt, t.id)],
);

export const devices = sqliteTable(
  "devices",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["door", "machine", "kiosk"] }).notNull(),
    makerspaceId: text("makerspace_id").notNull(),
    /** JSON array of equipment ids this device may act for; empty means all of its makerspace. */
    equipmentIds: text("equipment_ids").notNull().default("[]"),
    status: text("status", { enum: ["active", "revoked"] })
      .notNull()
      .default("active"),
    /** `jti` of the one valid token; rotating replaces it, so earlier tokens stop matching. */
    tokenJti: text("token_jti").notNull(),
    lastSeenAt: text("last_seen_at"),
    firmware: text("firmware"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("idx_devices_makerspace").on(t.makerspaceId, t.kind)],
);

export const badges = sqliteTable(
  "badges",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    makerspaceId: text("makerspace_id").notNull(),
    /** SHA-256 (hex) of the UID as upper-case hex without separators; the UID is never stored. */
    uidSha256: text("uid_sha256").notNull(),
    uidLast4: text("uid_last4").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("uq_badges_makerspace_uid").on(t.makerspaceId, t.uidSha256),
    index("idx_badges_user").on(t.userId),
  ],
);

/**
 * Webhook subscriptions of a makerspace. The signing secret is kept encrypted
 * (src/webhooks/secret-box.ts) so the consumer can sign with it; it is never returned after
 * creation.
 */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    makerspaceId: text("makerspace_id").notNull(),
    url: text("url").notNull(),
    /** JSON array of event types (`certification.granted`, …). */
    events: text("events").notNull(),
    description: text("description"),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** The first failed attempt since the last success; 3 days on, the webhook is disabled. */
    failingSince: text("failing_since"),
    createdBy: text("created_by"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("idx_webhooks_makerspace").on(t.makerspaceId, t.active)],
);

/** One row per delivery attempt (kept `WEBHOOK_DELIVERY_RETENTION_DAYS`, see src/cron/retention.ts). */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms"),
    deliveredAt: text("delivered_at").notNull(),
    nextAttemptAt: text("next_attempt_at"),
  },
  (t) => [
    index("idx_webhook_deliveries_webhook").on(t.webhookId, t.deliveredAt, t.id),
    index("idx_webhook_deliveries_date").on(t.deliveredAt),
  ],
);

/**
 * `certification.expiring` reminders already emitted: one row per certification, threshold and
 * `expires_at` (a renewal moves `expires_at`, so the next period is reminded again). The marker
 * is written before the events are sent and `dispatched_at` set after, so a run that stops in
 * between re-sends the same event id rather than losing it.
 */
export const certificationReminders = sqliteTable(
  "certification_reminders",
  {
    userSkillId: text("user_skill_id").notNull(),
    thresholdDays: integer("threshold_days").notNull(),
    expiresAt: text("expires_at").notNull(),
    makerspaceId: text("makerspace_id").notNull(),
    eventId: text("event_id").notNull(),
    createdAt: text("created_at").notNull(),
    dispatchedAt: text("dispatched_at"),
  },
  (t) => [
    primaryKey({ columns: [t.userSkillId, t.thresholdDays, t.expiresAt] }),
    index("idx_certification_reminders_pending").on(t.createdAt).where(sql`dispatched_at is null`),
    index("idx_certification_reminders_expires").on(t.expiresAt),
  ],
);

/**
 * The shard directory (read through the DIRECTORY binding; every database has the table, empty
 * where unused): which shard binding (`SHARD_0`, `SHARD_1`, …) holds each makerspace's rows. A
 * row is written once, by the first write naming the makerspace, and never changes: a makerspace
 * never moves, so readers may cache it for ever.
 */
export const makerspaceShards = sqliteTable(
  "makerspace_shards",
  {
    makerspaceId: text("makerspace_id").primaryKey(),
    shard: text("shard").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("idx_makerspace_shards_shard").on(t.shard)],
);

/**
 * The directory's index of equipment ids (they are caller-chosen and unique across the whole
 * service, whichever makerspace and shard hold them): the arbiter of `equipment_conflict`, and how
 * a call naming only an equipment id finds its shard.
 */
export const equipmentIndex = sqliteTable("equipment_index", {
  id: text("id").primaryKey(),
  makerspaceId: text("makerspace_id").notNull(),
  createdAt: text("created_at").notNull(),
});

export type SkillRow = typeof skills.$inferSelect;
export type EquipmentRow = typeof equipment.$inferSelect;
export type UserSkillRow = typeof userSkills.$inferSelect;
export type SkillRequestRow = typeof skillRequests.$inferSelect;
export type AuditLogRow = typeof skillAuditLogs.$inferSelect;
export type DeadLetterRow = typeof auditDeadLetters.$inferSelect;
export type DeviceRow = typeof devices.$inferSelect;
export type BadgeRow = typeof badges.$inferSelect;
export type SkillInstructorRow = typeof skillInstructors.$inferSelect;
export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
