import { relayOutbox } from "../audit/relay";
import type { Deps } from "../context";
import { buildDeps } from "../deps";
import { errorText } from "../lib/logger";
import { iso } from "../lib/time";
import { expireCertifications } from "./expiry";
import { sendExpiryReminders } from "./reminders";
import { purgeOldAuditLogs, purgeWebhookHistory } from "./retention";

/** The expressions of `[triggers] crons` in wrangler.toml; keep the two in step. */
export const HOURLY_CRON = "0 * * * *";
export const DAILY_CRON = "30 3 * * *";

/**
 * Runs the jobs of one cron expression and logs one summary line (counts, ms). A failing job
 * does not stop the others of the run; the run still fails afterwards so the failure shows in
 * the Cron Events log.
 */
export async function runScheduled(deps: Deps, cron: string): Promise<Record<string, unknown>> {
  const started = Date.now();
  const summary: Record<string, unknown> = { cron, scheduled_time: iso(deps.now) };
  const failures: unknown[] = [];
  const job = async (name: string, run: () => Promise<unknown>) => {
    try {
      summary[name] = await run();
    } catch (err) {
      failures.push(err);
      summary[name] = { error: errorText(err) };
    }
  };

  switch (cron) {
    case HOURLY_CRON:
      await job("expiry", () => expireCertifications(deps));
      await job("relay", () => relayOutbox(deps));
      break;
    case DAILY_CRON:
      await job("reminders", () => sendExpiryReminders(deps));
      await job("retention", () => purgeOldAuditLogs(deps));
      await job("webhook_history", () => purgeWebhookHistory(deps));
      break;
    default:
      summary.skipped = "unknown cron expression";
  }

  summary.ms = Date.now() - started;
  if (failures.length > 0) {
    deps.logger.error("scheduled run failed", summary);
    throw failures[0];
  }
  deps.logger.info("scheduled run", summary);
  return summary;
}

/** The Worker's `scheduled` handler: the run's clock is the scheduled time, not the start time. */
export async function handleScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const deps = buildDeps(env, ctx, `cron-${crypto.randomUUID()}`, { now: new Date(controller.scheduledTime) });
  await runScheduled(deps, controller.cron);
}
