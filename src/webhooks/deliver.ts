import { and, eq, isNotNull, lte, sql } from "drizzle-orm";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, publishCommitted } from "../audit/producer";
import type { Deps } from "../platform/context";
import { changesOf, runBatch, valuesOf } from "../platform/db/client";
import { type WebhookRow, webhookDeliveries, webhooks } from "../platform/db/schema";
import { type ShardName, shardOfId } from "../platform/db/shards";
import { buildDeps } from "../platform/deps";
import { AppError } from "../platform/errors";
import { newId } from "../platform/ids";
import { errorText } from "../platform/logger";
import { addSeconds, iso } from "../platform/time";
import { type WebhookJob, WebhookJobSchema } from "./events";
import { openSecret } from "./secret-box";
import { signedHeaders } from "./signature";
import { checkWebhookUrl } from "./url-guard";

/** How long a receiver has to answer one attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Failed events are retried for this long after they were first queued. */
export const RETRY_WINDOW_SECONDS = 24 * 3600;
/** A webhook whose deliveries have all failed for this long is set `active: false`. */
export const DISABLE_AFTER_SECONDS = 3 * 24 * 3600;
/** Waits after the 1st, 2nd, … failed attempt; the last repeats until the window closes. */
export const RETRY_DELAYS_SECONDS = [10, 60, 300, 1800, 7200, 18_000, 36_000] as const;

/**
 * When to try again after failed attempt `attempt` (1-based), or null when the event's 24 hours
 * are over. The last wait is shortened to land at the end of the window, so the final attempt is
 * made 24 h after the event (attempts at 0 s, 10 s, 70 s, ~6 min, ~36 min, ~2.6 h, ~7.6 h, ~17.6 h,
 * 24 h).
 */
export function retryDelaySeconds(attempt: number, enqueuedAt: string, now: Date): number | null {
  const left = Math.floor((Date.parse(enqueuedAt) + RETRY_WINDOW_SECONDS * 1000 - now.getTime()) / 1000);
  if (left <= 0) return null;
  const wait = RETRY_DELAYS_SECONDS[Math.min(attempt - 1, RETRY_DELAYS_SECONDS.length - 1)] as number;
  return Math.max(1, Math.min(wait, left));
}

export interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** One POST of the event's body, signed now; never follows a redirect, never waits past the timeout. */
export async function attemptDelivery(
  url: string,
  secret: string,
  job: WebhookJob,
  now: Date,
  timeoutMs: number,
): Promise<AttemptOutcome> {
  const started = Date.now();
  const headers = {
    "content-type": "application/json",
    "user-agent": "MakrCave-Webhooks/1",
    ...(await signedHeaders(secret, job.event_id, Math.floor(now.getTime() / 1000), job.body)),
  };
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body: job.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 300;
    return {
      statusCode: res.status,
      error: ok
        ? null
        : res.status >= 300 && res.status < 400
          ? `redirect (HTTP ${res.status}) not followed`
          : `HTTP ${res.status}`,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      statusCode: null,
      error: timedOut ? `no answer within ${timeoutMs / 1000} s` : `connection failed: ${errorText(err).slice(0, 200)}`,
      durationMs: Date.now() - started,
    };
  }
}

export interface DeliverySummary {
  delivered: number;
  failed: number;
  retried: number;
  skipped: number;
  malformed: number;
}

/**
 * The webhook queue's consumer. Every message of the batch is attempted at once, so a slow
 * receiver holds only its own message (10 s at most). Each attempt is recorded; the message is
 * acked on a 2xx, else retried with backoff until 24 h after the event was queued. A webhook
 * whose attempts have all failed for 3 days is set `active: false` and audited `webhook_disabled`.
 * A webhook deleted or deactivated meanwhile, or no longer subscribed to the event, is skipped.
 */
export async function deliverWebhookBatch(
  deps: Deps,
  batch: MessageBatch<unknown>,
  opts: { timeoutMs?: number } = {},
): Promise<DeliverySummary> {
  const summary: DeliverySummary = { delivered: 0, failed: 0, retried: 0, skipped: 0, malformed: 0 };
  const jobs: { msg: Message<unknown>; job: WebhookJob }[] = [];
  for (const msg of batch.messages) {
    const parsed = WebhookJobSchema.safeParse(msg.body);
    if (parsed.success) jobs.push({ msg, job: parsed.data });
    else {
      summary.malformed += 1;
      deps.logger.error("malformed webhook message dropped", { message_id: msg.id });
      msg.ack();
    }
  }
  // A webhook's rows (and its deliveries) live on its makerspace's shard, named by its id's tag.
  const byShard = new Map<ShardName, typeof jobs>();
  for (const j of jobs) {
    const shard = shardOfId(j.job.webhook_id);
    byShard.set(shard, [...(byShard.get(shard) ?? []), j]);
  }
  await Promise.all(
    [...byShard].map(([shard, part]) => deliverOnShard(deps.onShard(shard), part, summary, opts.timeoutMs)),
  );
  return summary;
}

async function deliverOnShard(
  deps: Deps,
  jobs: { msg: Message<unknown>; job: WebhookJob }[],
  summary: DeliverySummary,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<void> {
  const rows = await deps.db
    .select()
    .from(webhooks)
    .where(sql`${webhooks.id} in ${valuesOf([...new Set(jobs.map((j) => j.job.webhook_id))])}`)
    .all();
  const byId = new Map(rows.map((r) => [r.id, r]));

  await Promise.all(
    jobs.map(async ({ msg, job }) => {
      const hook = byId.get(job.webhook_id);
      const wanted =
        hook && (job.test || (hook.active && (JSON.parse(hook.events) as string[]).includes(job.event_type)));
      if (!hook || !wanted) {
        summary.skipped += 1;
        msg.ack();
        return;
      }
      try {
        const ok = await deliverOne(deps, hook, job, msg.attempts, timeoutMs);
        if (ok === true) {
          summary.delivered += 1;
          msg.ack();
        } else if (ok === null) {
          summary.failed += 1;
          msg.ack();
        } else {
          summary.retried += 1;
          msg.retry({ delaySeconds: ok });
        }
      } catch (err) {
        // Our side failed (D1, configuration): not the receiver's fault, so nothing is recorded
        // against it; the message comes back in a minute.
        summary.retried += 1;
        deps.logger.error("webhook delivery could not be attempted; retrying", {
          webhook_id: job.webhook_id,
          event_id: job.event_id,
          error: err instanceof AppError ? err.type : errorText(err),
        });
        msg.retry({ delaySeconds: 60 });
      }
    }),
  );
}

/** true: delivered; a number: failed, retry after that many seconds; null: failed for good. */
async function deliverOne(
  deps: Deps,
  hook: WebhookRow,
  job: WebhookJob,
  attempt: number,
  timeoutMs: number,
): Promise<true | number | null> {
  const secret = await openSecret(deps.config.WEBHOOK_ENCRYPTION_KEY, hook.id, hook.secretCiphertext);
  const verdict = checkWebhookUrl(hook.url, deps.config.ALLOW_UNREGISTERED_DEVICES);
  const attemptedAt = new Date();
  const outcome: AttemptOutcome = verdict.ok
    ? await attemptDelivery(verdict.url, secret, job, attemptedAt, timeoutMs)
    : { statusCode: null, error: `not sent: the URL ${verdict.reason}`, durationMs: 0 };
  const ok = outcome.error === null;
  const retryIn = ok ? null : retryDelaySeconds(attempt, job.enqueued_at, attemptedAt);
  const at = iso(attemptedAt);
  const disableBefore = iso(addSeconds(attemptedAt, -DISABLE_AFTER_SECONDS));
  const disabled = newEvent(
    { now: attemptedAt, shard: deps.shard },
    {
      action: "webhook_disabled",
      makerspaceId: hook.makerspaceId,
      performedBy: "system",
      reason: "Every delivery failed for 3 days",
      metadata: { webhook_id: hook.id, failing_since: hook.failingSince ?? at, last_error: outcome.error },
    },
  );
  const failingTooLong = sql`exists (select 1 from ${webhooks} where ${webhooks.id} = ${hook.id} and ${webhooks.active} = 1
    and ${webhooks.failingSince} <= ${disableBefore})`;
  const results = await runBatch(deps.db, [
    deps.db.insert(webhookDeliveries).values({
      id: newId("whd", deps),
      webhookId: hook.id,
      eventId: job.event_id,
      eventType: job.event_type,
      attempt,
      statusCode: outcome.statusCode,
      error: outcome.error,
      durationMs: outcome.durationMs,
      deliveredAt: at,
      nextAttemptAt: retryIn === null ? null : iso(addSeconds(attemptedAt, retryIn)),
    }),
    ok
      ? deps.db
          .update(webhooks)
          .set({ failingSince: null })
          .where(and(eq(webhooks.id, hook.id), isNotNull(webhooks.failingSince)))
      : deps.db
          .update(webhooks)
          .set({ failingSince: sql`coalesce(${webhooks.failingSince}, ${at})` })
          .where(eq(webhooks.id, hook.id)),
    guardedOutboxStatement(deps.db, disabled, failingTooLong),
    deps.db
      .update(webhooks)
      .set({ active: false, updatedAt: at })
      .where(and(eq(webhooks.id, hook.id), eq(webhooks.active, true), lte(webhooks.failingSince, disableBefore))),
  ]);
  if (changesOf(results[3]) === 1) {
    publishCommitted(deps, [disabled]);
    deps.logger.warn("webhook disabled after 3 days of failures", { webhook_id: hook.id });
  }
  if (!ok) {
    deps.logger.info("webhook delivery failed", {
      webhook_id: hook.id,
      event_id: job.event_id,
      attempt,
      error: outcome.error,
      retry_in_s: retryIn,
    });
  }
  return ok ? true : retryIn;
}

/**
 * The webhook queue's handler. An invalid configuration throws before any message is touched,
 * so Queues redelivers the batch once it is fixed.
 */
export async function handleWebhookQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const deps = buildDeps(env, ctx, `webhooks-${crypto.randomUUID()}`);
  const started = Date.now();
  const summary = await deliverWebhookBatch(deps, batch);
  deps.logger.info("webhook batch delivered", {
    queue: batch.queue,
    messages: batch.messages.length,
    ...summary,
    ms: Date.now() - started,
  });
}
