import { relayOutbox } from "../audit/relay";
import type { Deps } from "../context";
import { eachShard } from "../db/fan-out";
import { shardNames } from "../db/shards";
import { buildDeps } from "../deps";
import { errorText } from "../lib/logger";
import { iso } from "../lib/time";
import { expireCertifications } from "./expiry";
import { purgeOldAuditLogs } from "./retention";

/** The expressions of `[triggers] crons` in wrangler.toml; keep the two in step. */
export const HOURLY_CRON = "0 * * * *";
export const DAILY_CRON = "30 3 * * *";

/** D1 queries a daily run spends on retention, shared by the shards (Workers Paid: 1,000 per invocation). */
const RETENTION_STATEMENTS_PER_RUN = 50;

/**
 * Runs the jobs of one cron expression on every shard and logs one summary line (per job, per
 * shard: counts; ms). Each shard's work is bounded as one database's was (expiry 4 × 200 rows,
 * relay 10 pages), except what one invocation allows in all: KV deletes (the expiry's 800 are
 * shared) and the retention's 50 statements (split between the shards). A failing job or shard
 * does not stop the others; the run still fails afterwards so the failure shows in the Cron
 * Events log.
 */
export async function runScheduled(deps: Deps, cron: string): Promise<Record<string, unknown>> {
  const started = Date.now();
  const summary: Record<string, unknown> = { cron, scheduled_time: iso(deps.now) };
  const failures: unknown[] = [];
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
      const kvDeletes = { left: 800 };
      await job("expiry", (d) => expireCertifications(d, { kvDeletes }));
      await job("relay", (d) => relayOutbox(d));
      break;
    }
    case DAILY_CRON: {
      const maxBatches = Math.max(1, Math.floor(RETENTION_STATEMENTS_PER_RUN / shardNames(deps.env).length));
      await job("retention", (d) => purgeOldAuditLogs(d, { maxBatches }));
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
