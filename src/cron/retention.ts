import { asc, inArray, lt } from "drizzle-orm";
import type { Deps } from "../context";
import { certificationReminders, skillAuditLogs, webhookDeliveries } from "../db/schema";
import { addDays, iso } from "../lib/time";

export interface RetentionOptions {
  batchSize?: number;
  maxBatches?: number;
}

export interface RetentionSummary {
  deleted: number;
  cutoff: string;
  /** True when the run stopped on its budget with old rows possibly left (the next run goes on). */
  more: boolean;
}

/**
 * Deletes audit rows older than `SKILL_AUDIT_RETENTION_DAYS`, oldest first, a bounded number per
 * statement so no single D1 query runs long or locks the table for other writers.
 */
export async function purgeOldAuditLogs(deps: Deps, opts: RetentionOptions = {}): Promise<RetentionSummary> {
  const { batchSize = 1000, maxBatches = 50 } = opts;
  const cutoff = iso(addDays(deps.now, -deps.config.SKILL_AUDIT_RETENTION_DAYS));
  let deleted = 0;
  for (let i = 0; i < maxBatches; i += 1) {
    const oldest = deps.db
      .select({ id: skillAuditLogs.id })
      .from(skillAuditLogs)
      .where(lt(skillAuditLogs.createdAt, cutoff))
      .orderBy(asc(skillAuditLogs.createdAt))
      .limit(batchSize);
    const result = await deps.db.delete(skillAuditLogs).where(inArray(skillAuditLogs.id, oldest)).run();
    deleted += result.meta.changes;
    if (result.meta.changes < batchSize) return { deleted, cutoff, more: false };
  }
  return { deleted, cutoff, more: true };
}

export interface WebhookHistorySummary {
  deliveries: number;
  reminders: number;
  more: boolean;
}

/**
 * Delivery attempts older than `WEBHOOK_DELIVERY_RETENTION_DAYS` (and those of deleted webhooks
 * with them), and reminder markers of expiries more than 30 days past — bounded per statement
 * like the audit purge.
 */
export async function purgeWebhookHistory(deps: Deps, opts: RetentionOptions = {}): Promise<WebhookHistorySummary> {
  const { batchSize = 1000, maxBatches = 20 } = opts;
  const deliveriesBefore = iso(addDays(deps.now, -deps.config.WEBHOOK_DELIVERY_RETENTION_DAYS));
  const remindersBefore = iso(addDays(deps.now, -30));
  const summary: WebhookHistorySummary = { deliveries: 0, reminders: 0, more: false };
  for (let i = 0; i < maxBatches; i += 1) {
    const oldest = deps.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(lt(webhookDeliveries.deliveredAt, deliveriesBefore))
      .orderBy(asc(webhookDeliveries.deliveredAt))
      .limit(batchSize);
    const result = await deps.db.delete(webhookDeliveries).where(inArray(webhookDeliveries.id, oldest)).run();
    summary.deliveries += result.meta.changes;
    if (result.meta.changes < batchSize) break;
    if (i === maxBatches - 1) summary.more = true;
  }
  const reminders = await deps.db
    .delete(certificationReminders)
    .where(lt(certificationReminders.expiresAt, remindersBefore))
    .run();
  summary.reminders = reminders.meta.changes;
  return summary;
}
