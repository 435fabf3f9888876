import { sql } from "drizzle-orm";
import type { Deps } from "../platform/context";
import { changesOf } from "../platform/db/client";
import { certificationReminders, skillAuditLogs, webhookDeliveries } from "../platform/db/schema";
import { addDays, iso, startOfUtcDay } from "../platform/time";

export interface RetentionOptions {
  /** Rows per DELETE statement. */
  batchSize?: number;
  /** Statements per run: 400 × 10,000 = 4,000,000 rows in 400 D1 queries (Workers allow 1,000). */
  maxStatements?: number;
  /** Stop starting new statements after this long (wall time), well inside the cron's 15 minutes. */
  budgetMs?: number;
}

export interface RetentionSummary {
  /** Rows deleted in all. */
  deleted: number;
  /** Of which `access_granted` / `access_denied` (the R2 archive keeps them). */
  accessDeleted: number;
  /** Change events are deleted before this instant… */
  cutoff: string;
  /** …access events before this one (a UTC midnight). */
  accessCutoff: string;
  /** True when the run stopped on its budget with old rows possibly left (the next run goes on). */
  more: boolean;
}

/** Written out as the partial index's own condition, so SQLite uses that index. */
export const ACCESS_ACTIONS_SQL = sql.raw("action in ('access_granted', 'access_denied')");

/**
 * Where D1's access events start: midnight UTC, ACCESS_EVENT_RETENTION_DAYS before `now`.
 * Retention deletes whole days, so D1 holds every access event from this day on, and the export
 * reads the archive for the days before it (src/audit/export.ts).
 */
export function accessRetentionCutoff(deps: Pick<Deps, "now" | "config">): Date {
  return startOfUtcDay(addDays(deps.now, -deps.config.ACCESS_EVENT_RETENTION_DAYS));
}

/**
 * Deletes access events older than `accessRetentionCutoff` (they live on in the R2 archive) and
 * every other audit row older than SKILL_AUDIT_RETENTION_DAYS, oldest first, `batchSize` rows per
 * statement: each statement is one short write (D1 runs one query at a time, so other writers wait
 * for it), found through an index on `created_at` (a partial one for access events, so five years
 * of change events are never stepped over), deleted by rowid. A run that stops on its budget leaves
 * the newest of the old rows, and the next run starts from the oldest again.
 */
export async function purgeOldAuditLogs(deps: Deps, opts: RetentionOptions = {}): Promise<RetentionSummary> {
  const { batchSize = 10_000, maxStatements = 400, budgetMs = 600_000 } = opts;
  const cutoff = iso(addDays(deps.now, -deps.config.SKILL_AUDIT_RETENTION_DAYS));
  const accessCutoff = iso(accessRetentionCutoff(deps));
  const started = Date.now();
  const summary: RetentionSummary = { deleted: 0, accessDeleted: 0, cutoff, accessCutoff, more: false };
  const phases = [
    { access: true, where: sql`${ACCESS_ACTIONS_SQL} and ${skillAuditLogs.createdAt} < ${accessCutoff}` },
    { access: false, where: sql`${skillAuditLogs.createdAt} < ${cutoff} and not ${ACCESS_ACTIONS_SQL}` },
  ];
  let statements = 0;
  for (const phase of phases) {
    for (;;) {
      if (statements >= maxStatements || Date.now() - started >= budgetMs) return { ...summary, more: true };
      statements += 1;
      const result = await deps.db.run(
        sql`delete from ${skillAuditLogs} where rowid in
          (select rowid from ${skillAuditLogs} where ${phase.where} limit ${batchSize})`,
      );
      const deleted = changesOf(result);
      summary.deleted += deleted;
      if (phase.access) summary.accessDeleted += deleted;
      if (deleted < batchSize) break;
    }
  }
  return summary;
}

export interface WebhookHistorySummary {
  deliveries: number;
  reminders: number;
  more: boolean;
}

/**
 * Delivery attempts older than `WEBHOOK_DELIVERY_RETENTION_DAYS` (and those of deleted webhooks
 * with them), and reminder markers of expiries more than 30 days past — `batchSize` rows per
 * statement, deleted by rowid like the audit purge, within the same statement and time budget.
 */
export async function purgeWebhookHistory(deps: Deps, opts: RetentionOptions = {}): Promise<WebhookHistorySummary> {
  const { batchSize = 10_000, maxStatements = 400, budgetMs = 600_000 } = opts;
  const deliveriesBefore = iso(addDays(deps.now, -deps.config.WEBHOOK_DELIVERY_RETENTION_DAYS));
  const remindersBefore = iso(addDays(deps.now, -30));
  const started = Date.now();
  const summary: WebhookHistorySummary = { deliveries: 0, reminders: 0, more: false };
  const phases = [
    {
      key: "deliveries" as const,
      statement: sql`delete from ${webhookDeliveries} where rowid in
        (select rowid from ${webhookDeliveries} where ${webhookDeliveries.deliveredAt} < ${deliveriesBefore} limit ${batchSize})`,
    },
    {
      key: "reminders" as const,
      statement: sql`delete from ${certificationReminders} where rowid in
        (select rowid from ${certificationReminders} where ${certificationReminders.expiresAt} < ${remindersBefore} limit ${batchSize})`,
    },
  ];
  let statements = 0;
  for (const phase of phases) {
    for (;;) {
      if (statements >= maxStatements || Date.now() - started >= budgetMs) return { ...summary, more: true };
      statements += 1;
      const deleted = changesOf(await deps.db.run(phase.statement));
      summary[phase.key] += deleted;
      if (deleted < batchSize) break;
    }
  }
  return summary;
}
