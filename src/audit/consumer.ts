import { inArray } from "drizzle-orm";
import { forgetCachedCertifications } from "../cache/user-skills";
import type { Deps } from "../context";
import { chunk, runBatch } from "../db/client";
import { auditOutbox } from "../db/schema";
import { buildDeps } from "../deps";
import { errorText } from "../lib/logger";
import { sendAll } from "../lib/queue";
import { webhookJobsFor } from "../webhooks/fan-out";
import { type AuditEvent, AuditEventSchema } from "./events";
import { auditRowStatements } from "./producer";

/** Longest wait before a failed message is offered again (Queues allows up to 12 hours). */
const MAX_RETRY_DELAY_SECONDS = 300;

/** 10 s, 20 s, 40 s, … capped: a D1 hiccup clears fast, an outage is not hammered. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(MAX_RETRY_DELAY_SECONDS, 2 ** Math.max(1, attempts) * 5);
}

export interface ConsumeSummary {
  written: number;
  malformed: number;
  retried: number;
  /** Webhook deliveries queued (one per event and subscribed webhook). */
  webhooks: number;
}

/**
 * The audit queue's consumer. Every valid event of the batch is written in ONE D1 batch, together
 * with the deletion of its outbox row; the insert ignores ids already written, so a redelivered
 * or relayed event leaves one row. Outcomes are per message:
 * - malformed body → logged and acked: no retry can make it valid, and it must not hold back
 *   the valid messages of its batch;
 * - written → acked;
 * - D1 failed → retried with exponential backoff; after `max_retries` Queues moves it to the
 *   dead-letter queue, and its outbox row (if any) is still there for the cron to re-send.
 */
export async function consumeAuditBatch(deps: Deps, batch: MessageBatch<unknown>): Promise<ConsumeSummary> {
  const valid: { msg: Message<unknown>; event: AuditEvent }[] = [];
  let malformed = 0;
  for (const msg of batch.messages) {
    const parsed = AuditEventSchema.safeParse(msg.body);
    if (parsed.success) {
      valid.push({ msg, event: parsed.data });
      continue;
    }
    malformed += 1;
    deps.logger.error("malformed audit message dropped", {
      queue: batch.queue,
      message_id: msg.id,
      attempts: msg.attempts,
      issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
    });
    msg.ack();
  }
  if (valid.length === 0) return { written: 0, malformed, retried: 0, webhooks: 0 };

  // The same event may arrive twice in one batch (a relay racing the first send).
  const events = [...new Map(valid.map((v) => [v.event.id, v.event])).values()];
  let webhooks = 0;
  try {
    await runBatch(deps.db, [
      ...auditRowStatements(deps.db, events),
      ...chunk(
        events.map((e) => e.id),
        90,
      ).map((ids) => deps.db.delete(auditOutbox).where(inArray(auditOutbox.id, ids))),
    ]);
    const jobs = await webhookJobsFor(deps, events);
    await sendAll(deps.env.WEBHOOK_QUEUE, jobs);
    webhooks = jobs.length;
  } catch (err) {
    for (const { msg } of valid) msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
    deps.logger.error("audit batch write failed; retrying", {
      queue: batch.queue,
      messages: valid.length,
      max_attempts: Math.max(...valid.map((v) => v.msg.attempts)),
      error: errorText(err),
    });
    return { written: 0, malformed, retried: valid.length, webhooks: 0 };
  }
  for (const { msg } of valid) msg.ack();
  await forgetImportedUsers(deps, events);
  return { written: events.length, malformed, retried: 0, webhooks };
}

/** Drops the KV entries of users whose certifications an import changed (see certification-import.ts). */
async function forgetImportedUsers(deps: Deps, events: AuditEvent[]): Promise<void> {
  const users = events.flatMap((e) =>
    e.metadata.import_id !== undefined &&
    e.user_id !== null &&
    (e.action === "skill_granted" || e.action === "skill_renewed")
      ? [e.user_id]
      : [],
  );
  if (users.length === 0) return;
  await forgetCachedCertifications(deps, users).catch((err: unknown) => {
    deps.logger.warn("user-skills cache entries of an import not dropped", { error: errorText(err) });
  });
}

/**
 * The Worker's `queue` handler. An invalid configuration throws before any message is touched,
 * so Queues redelivers the whole batch once the configuration is fixed.
 */
export async function handleAuditQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const deps = buildDeps(env, ctx, `queue-${crypto.randomUUID()}`);
  const started = Date.now();
  const summary = await consumeAuditBatch(deps, batch);
  deps.logger.info("audit batch consumed", {
    queue: batch.queue,
    messages: batch.messages.length,
    ...summary,
    ms: Date.now() - started,
  });
}
