import { sql } from "drizzle-orm";
import { forgetCachedCertifications } from "../certifications/cache";
import type { Deps } from "../platform/context";
import { valuesOf } from "../platform/db/client";
import { auditDeadLetters, auditOutbox } from "../platform/db/schema";
import { buildDeps } from "../platform/deps";
import { errorText } from "../platform/logger";
import { sendAll } from "../platform/queue";
import { EVENT_OF_ACTION } from "../webhooks/events";
import { webhookJobsFor } from "../webhooks/fan-out";
import { archiveAccessEvents } from "./archive";
import { type AuditEvent, AuditEventSchema } from "./events";
import { byShard, writeAuditEvents } from "./writer";

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
  /** Access events written to the R2 archive, and the objects they went into. */
  archived: number;
  archiveObjects: number;
  /** Webhook deliveries queued (one per event and subscribed webhook). */
  webhooks: number;
}

/**
 * The audit queue's consumer. Access events are first archived to R2 (src/audit/archive.ts: one
 * object per makerspace and day, named by its events' ids, so a redelivered batch rewrites the same
 * objects; R2 is not sharded). The valid events of a batch are then grouped by their makerspace's
 * shard, and each group is written in ONE D1 batch on that shard, together with the deletion of
 * their outbox rows (and of any dead letter of the same event: it did get written); the insert
 * ignores ids already written, so a redelivered or relayed event leaves one row. Outcomes are per
 * message:
 * - malformed body → logged and acked: no retry can make it valid, and it must not hold back
 *   the valid messages of its batch;
 * - written → its webhook deliveries are queued (src/webhooks/fan-out.ts: one message per event
 *   and subscribed webhook on the webhook queue), then acked; should that fail, the events that
 *   could reach a webhook are retried (their rows are not written twice);
 * - D1 refused the batch → each event is written alone (`writeAuditEvents`), so one event D1
 *   rejects is retried alone while the others are acked;
 * - not written → retried with exponential backoff; after `max_retries` Queues moves it to the
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
  if (valid.length === 0) return { written: 0, malformed, retried: 0, archived: 0, archiveObjects: 0, webhooks: 0 };

  // The same event may arrive twice in one batch (a relay racing the first send).
  const events = [...new Map(valid.map((v) => [v.event.id, v.event])).values()];
  // Access events go to the R2 archive first: one that is in D1 is always in the archive too, so
  // D1 may drop it after ACCESS_EVENT_RETENTION_DAYS. One whose object R2 refused is retried.
  const archive = await archiveAccessEvents(deps.env.AUDIT_ARCHIVE, events);
  if (archive.failed.size > 0) {
    deps.logger.error("access events not archived; retrying them", {
      queue: batch.queue,
      event_ids: [...archive.failed.keys()].slice(0, 20),
      error: errorText(archive.failed.values().next().value),
    });
  }
  const writable = events.filter((e) => !archive.failed.has(e.id));
  const { written, failed } = await writeAuditEvents(deps, writable, (db, ids) => [
    db.delete(auditOutbox).where(sql`${auditOutbox.id} in ${valuesOf(ids)}`),
    db.delete(auditDeadLetters).where(sql`${auditDeadLetters.id} in ${valuesOf(ids)}`),
  ]);
  // Webhook deliveries of the written events. Should the fan-out fail, the events that could
  // reach a webhook are retried: their rows are written already (a redelivery writes nothing
  // twice) and the fan-out runs again; receivers dedupe by `webhook-id`.
  const writtenEvents = events.filter((e) => written.has(e.id));
  const fanOut = await fanOutWebhooks(deps, batch.queue, writtenEvents);
  let retried = 0;
  for (const { msg, event } of valid) {
    if (written.has(event.id) && !fanOut.failed.has(event.id)) {
      msg.ack();
      continue;
    }
    msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) });
    retried += 1;
  }
  if (failed.size > 0) {
    deps.logger.error("audit events not written; retrying them", {
      queue: batch.queue,
      messages: retried,
      written: written.size,
      event_ids: [...failed.keys()].slice(0, 20),
      max_attempts: Math.max(...valid.filter((v) => failed.has(v.event.id)).map((v) => v.msg.attempts)),
      error: errorText(failed.values().next().value),
    });
  }
  await forgetImportedUsers(deps, writtenEvents);
  return {
    written: written.size,
    malformed,
    retried,
    archived: archive.archived.size,
    archiveObjects: archive.objects,
    webhooks: fanOut.jobs,
  };
}

/**
 * Queues the webhook deliveries of written events. On failure, returns the ids of the events
 * that map to a webhook event type (the others never reach a webhook, and are acked).
 */
async function fanOutWebhooks(
  deps: Deps,
  queue: string,
  events: AuditEvent[],
): Promise<{ jobs: number; failed: Set<string> }> {
  if (events.length === 0) return { jobs: 0, failed: new Set() };
  try {
    // Subscriptions live on each makerspace's shard.
    const groups = await byShard(deps, events);
    const jobs = (
      await Promise.all(
        [...groups].map(([shard, part]) => webhookJobsFor(deps.onShard(shard, { kind: "plain" }), part)),
      )
    ).flat();
    await sendAll(deps.env.WEBHOOK_QUEUE, jobs);
    return { jobs: jobs.length, failed: new Set() };
  } catch (err) {
    const failed = new Set(events.filter((e) => EVENT_OF_ACTION[e.action] !== undefined).map((e) => e.id));
    deps.logger.error("webhook fan-out failed; retrying its events", {
      queue,
      event_ids: [...failed].slice(0, 20),
      error: errorText(err),
    });
    return { jobs: 0, failed };
  }
}

/** Drops the KV entries of users whose certifications an import changed (see certification-import.ts). */
async function forgetImportedUsers(deps: Deps, events: AuditEvent[]): Promise<void> {
  const users = events.flatMap((e) =>
    e.metadata.import_id !== undefined &&
    e.user_id !== null &&
    (e.action === "skill_granted" || e.action === "skill_renewed")
      ? [{ makerspaceId: e.makerspace_id, userId: e.user_id }]
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
