import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  type QueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { AuditAction, AuditEvent } from "../../src/audit/events";
import worker from "../../src/index";
import { assignShard } from "../../src/platform/db/directory";
import { idTag } from "../../src/platform/db/shards";
import { envWithD1, hookD1 } from "./d1-hooks";
import { callJson } from "./http";
import { onEveryShard, shardDb } from "./shards";

export const AUDIT_QUEUE_NAME = "makrcave-audit";

let seq = 0;
/** A well-formed event with every field chosen by the test (ids unique per call). */
export function auditEvent(fields: Partial<AuditEvent> & { action?: AuditAction } = {}): AuditEvent {
  seq += 1;
  return {
    id: `evt_test_${seq}_${crypto.randomUUID()}`,
    action: "skill_granted",
    user_id: "user-1",
    skill_id: "skill-1",
    makerspace_id: "ms-1",
    performed_by: "admin-1",
    reason: null,
    metadata: {},
    created_at: new Date().toISOString(),
    ...fields,
  };
}

/**
 * `auditEvent` with its id tagged for its makerspace's shard, as the service tags the events it
 * makes (a dead letter is retried on the shard its id names); the makerspace is placed if new.
 */
export async function shardEvent(fields: Partial<AuditEvent> & { action?: AuditAction } = {}): Promise<AuditEvent> {
  const event = auditEvent(fields);
  const shard = await assignShard(env, event.makerspace_id, new Date());
  return { ...event, id: `evt_${idTag(shard)}_test_${crypto.randomUUID()}` };
}

/** Inserts an event's outbox row on its makerspace's shard, as the change's batch would have. */
export async function insertOutbox(
  event: AuditEvent,
  opts: { payload?: string; attempts?: number; createdAt?: string } = {},
) {
  await (await shardDb(event.makerspace_id))
    .prepare("insert into audit_outbox (id, payload, created_at, attempts) values (?, ?, ?, ?)")
    .bind(event.id, opts.payload ?? JSON.stringify(event), opts.createdAt ?? event.created_at, opts.attempts ?? 0)
    .run();
}

/** Runs the Worker's queue handler on these bodies, as Queues would deliver them (the audit queue by default). */
export async function deliver(
  bodies: unknown[],
  opts: { env?: Env; attempts?: number; queue?: string } = {},
): Promise<{ result: QueueResult; ids: string[]; retryDelays: Record<string, number | undefined> }> {
  const ids = bodies.map((_, i) => `msg-${i}-${crypto.randomUUID()}`);
  const batch = createMessageBatch(
    opts.queue ?? AUDIT_QUEUE_NAME,
    bodies.map((body, i) => ({ id: ids[i] as string, timestamp: new Date(), attempts: opts.attempts ?? 1, body })),
  );
  // getQueueResult does not report per-message delays, so retry() calls are recorded on the way.
  const retryDelays: Record<string, number | undefined> = {};
  for (const msg of batch.messages) {
    const retry = msg.retry.bind(msg);
    Object.defineProperty(msg, "retry", {
      value: (options?: QueueRetryOptions) => {
        retryDelays[msg.id] = options?.delaySeconds;
        retry(options);
      },
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<AuditEvent>, opts.env ?? env, ctx);
  return { result: await getQueueResult(batch, ctx), ids, retryDelays };
}

/** Runs the Worker's scheduled handler for one cron expression at `scheduledTime`. */
export async function runCron(cron: string, scheduledTime: Date, runEnv: Env = env): Promise<void> {
  const controller = createScheduledController({ cron, scheduledTime });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, runEnv, ctx);
  await waitOnExecutionContext(ctx);
}

export interface QueueSpy {
  env: Env;
  /** Bodies handed to the real queue, in order. */
  sent: AuditEvent[];
  /** Calls refused by the injected fault. */
  refused: number;
}

/**
 * The test env with AUDIT_QUEUE wrapped: every send is recorded, then forwarded to the real
 * local queue — or, with `fail`, refused as an unavailable queue would.
 */
export function queueSpy(opts: { fail?: boolean } = {}): QueueSpy {
  const real = env.AUDIT_QUEUE;
  const spy: QueueSpy = { env, sent: [], refused: 0 };
  const refuse = () => {
    spy.refused += 1;
    throw new Error("Queue send failed (injected)");
  };
  const queue = {
    async send(body: AuditEvent, options?: QueueSendOptions) {
      if (opts.fail) refuse();
      spy.sent.push(body);
      await real.send(body, options);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<AuditEvent>>, options?: QueueSendBatchOptions) {
      if (opts.fail) refuse();
      const list = [...messages];
      spy.sent.push(...list.map((m) => m.body));
      await real.sendBatch(list, options);
    },
  };
  spy.env = { ...env, AUDIT_QUEUE: queue as unknown as Queue } as Env;
  return spy;
}

/**
 * The test env with the shards' D1 batches failing (reads still work), as during a D1 outage;
 * the directory still answers.
 */
export function failingBatchEnv(): Env {
  return envWithD1((db, name) =>
    name === "DIRECTORY"
      ? db
      : hookD1(db, {
          batch: async () => {
            throw new Error("D1_ERROR: database unavailable (injected)");
          },
        }),
  );
}

/** An event's outbox row, on whichever shard holds it. */
export async function outboxRow(id: string): Promise<{ id: string; payload: string; attempts: number } | null> {
  const rows = await onEveryShard(
    async (db) =>
      (
        await db.prepare("select id, payload, attempts from audit_outbox where id = ?").bind(id).all<{
          id: string;
          payload: string;
          attempts: number;
        }>()
      ).results,
  );
  return rows[0] ?? null;
}

/** How many audit rows the event has, over every shard (1 once written, wherever). */
export async function auditRowCount(id: string): Promise<number> {
  const counts = await onEveryShard(async (db) => [
    (await db.prepare("select count(*) as n from skill_audit_logs where id = ?").bind(id).first<{ n: number }>())?.n ??
      0,
  ]);
  return counts.reduce((a, b) => a + b, 0);
}

/** Polls until `check` returns a value (the real consumer runs after Queues' batch timeout). */
export async function eventually<T>(check: () => Promise<T | null | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Where an event is now, over every shard: exactly one of the outbox or the log (the consumer
 * moves it atomically, on the event's shard).
 */
export async function placesOf(id: string): Promise<number> {
  const counts = await onEveryShard(async (db) => [
    (
      await db
        .prepare(
          "select (select count(*) from audit_outbox where id = ?1) + (select count(*) from skill_audit_logs where id = ?1) as n",
        )
        .bind(id)
        .first<{ n: number }>()
    )?.n ?? 0,
  ]);
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Runs one operation over HTTP and follows its single event: committed with the change (in the
 * outbox, unless `viaOutbox: false` for verify's direct events), sent to the queue, delivered to
 * the consumer, then read back through GET /skills/audit-logs with `readerToken` (an admin of
 * the event's makerspace). Returns the item as the API lists it.
 */
export async function audited(
  op: (env: Env) => Promise<{ status: number }>,
  expectedStatus: number,
  readerToken: string,
  opts: { viaOutbox?: boolean } = {},
): Promise<Record<string, unknown>> {
  const spy = queueSpy();
  const res = await op(spy.env);
  expect(res.status).toBe(expectedStatus);
  expect(spy.sent).toHaveLength(1);
  const event = spy.sent[0] as AuditEvent;
  if (opts.viaOutbox ?? true) expect(await placesOf(event.id)).toBe(1);

  const { result, ids } = await deliver(spy.sent);
  expect(result.explicitAcks).toEqual(ids);
  expect(await placesOf(event.id)).toBe(1);

  const page = await callJson<{ items: Record<string, unknown>[] }>(
    "GET",
    `/api/v1/skills/audit-logs?action=${event.action}&limit=200`,
    { token: readerToken },
  );
  const items = page.body.items.filter((i) => i.id === event.id);
  expect(items).toHaveLength(1);
  return items[0] as Record<string, unknown>;
}
