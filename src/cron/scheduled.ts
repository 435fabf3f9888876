import { relayOutbox } from "../audit/relay";
import type { Deps } from "../platform/context";
import { eachShard } from "../platform/db/fan-out";
import { shardNames } from "../platform/db/shards";
import { buildDeps } from "../platform/deps";
import { errorText } from "../platform/logger";
import { iso } from "../platform/time";
import { expireCertifications } from "./expiry";
import { sendExpiryReminders } from "./reminders";
import { purgeOldAuditLogs, purgeWebhookHistory } from "./retention";

/** The expressions of `[triggers] crons` in wrangler.toml; keep the two in step. */
export const HOURLY_CRON = "0 * * * *";
export const DAILY_CRON = "30 3 * * *";

/**
 * D1 queries one invocation may spend (Workers Paid allow 1,000), split between the shards: the
 * hourly expiry's chunks (one batch of 3–4 queries each); the daily run's reminder pages (a few
 * queries each), the audit retention's and the webhook history's DELETE statements.
 */
const EXPIRY_CHUNKS_PER_RUN = 100;
const REMINDER_PAGES_PER_RUN = 20;
const RETENTION_STATEMENTS_PER_RUN = 400;
const WEBHOOK_HISTORY_STATEMENTS_PER_RUN = 200;
/** Wall time of one run, shared by its shards (a cron may run 15 minutes). */
const RUN_BUDGET_MS = 600_000;

/**
 * Runs the jobs of one cron expression on every shard and logs one summary line (per job, per
 * shard: counts; ms). What one invocation allows in all is shared by the shards: the expiry's
 * chunks and the retention's statements are split between them, and every shard stops starting new
 * work at the run's common deadline; a larger backlog finishes over the next runs. A failing job
 * or shard does not stop the others; the run still fails afterwards so the failure shows in the
 * Cron Events log.
 */
export async function runScheduled(deps: Deps, cron: string): Promise<Record<string, unknown>> {
  const started = Date.now();
  const summary: Record<string, unknown> = { cron, scheduled_time: iso(deps.now) };
  const failures: unknown[] = [];
  const shards = shardNames(deps.env).length;
  const deadline = started + RUN_BUDGET_MS;
  const job = async (name: string, run: (shardDeps: Deps) => Promise<unknown>) => {
    const perShard: Record<string, unknown> = {};
    for (const [shard, outcome] of await eachShard(deps, run)) {
      if (outcome.status === "fulfilled") {
        perShard[shard] = outcome.value;
      } else {
        failures.push(outcome.reason);
        perShard[shard] = { error: errorText(outcome.reason) };
      }
    }
    summary[name] = perShard;
  };

  switch (cron) {
    case HOURLY_CRON: {
      const maxBatches = Math.max(1, Math.floor(EXPIRY_CHUNKS_PER_RUN / shards));
      await job("expiry", (d) => expireCertifications(d, { maxBatches, budgetMs: deadline - Date.now() }));
      await job("relay", (d) => relayOutbox(d));
      break;
    }
    case DAILY_CRON: {
      const split = (perRun: number) => Math.max(1, Math.floor(perRun / shards));
      await job("reminders", (d) => sendExpiryReminders(d, { maxPages: split(REMINDER_PAGES_PER_RUN) }));
      const budget = () => deadline - Date.now();
      await job("retention", (d) =>
        purgeOldAuditLogs(d, { maxStatements: split(RETENTION_STATEMENTS_PER_RUN), budgetMs: budget() }),
      );
      await job("webhook_history", (d) =>
        purgeWebhookHistory(d, { maxStatements: split(WEBHOOK_HISTORY_STATEMENTS_PER_RUN), budgetMs: budget() }),
      );
      break;
    }
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
