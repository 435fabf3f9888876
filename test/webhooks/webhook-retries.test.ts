import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buildDeps } from "../../src/platform/deps";
import { deliverWebhookBatch, retryDelaySeconds } from "../../src/webhooks/deliver";
import { jobFor, type WebhookEvent, type WebhookJob } from "../../src/webhooks/events";
import { callJson } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { allOnEveryShard, runOnEveryShard } from "../helpers/shards";
import { admin } from "../helpers/tokens";
import {
  createWebhook,
  deliverJobs,
  receiver,
  uniqueMakerspace,
  WEBHOOK_QUEUE_NAME,
  webhookEnv,
} from "../helpers/webhooks";

const HOUR = 3600_000;

async function hookOn(events = ["request.created"]) {
  const ms = uniqueMakerspace();
  const pipeline = webhookEnv();
  const r = receiver();
  const created = await createWebhook({ makerspace_id: ms, url: r.url, events }, { env: pipeline.env });
  return { ms, pipeline, r, id: created.body.webhook.id, token: await admin(ms) };
}

function jobOf(webhookId: string, ms: string, enqueuedAt = new Date()): WebhookJob {
  const event: WebhookEvent = {
    id: `evt_${crypto.randomUUID()}`,
    type: "request.created",
    created_at: enqueuedAt.toISOString(),
    makerspace_id: ms,
    data: { id: "req_1" },
  };
  return jobFor(webhookId, event, enqueuedAt.toISOString());
}

async function row(id: string) {
  const [found] = await allOnEveryShard<{ active: number; failing_since: string | null }>(
    "select active, failing_since from webhooks where id = ?",
    id,
  );
  return found ?? null;
}

async function attempts(ms: string, id: string) {
  const res = await callJson<{ items: Record<string, unknown>[] }>("GET", `/api/v1/webhooks/${id}/deliveries`, {
    token: await admin(ms),
  });
  return res.body.items;
}

describe("the retry schedule", () => {
  it("backs off 10 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, and stops 24 h after the event", () => {
    const start = new Date("2026-06-01T00:00:00.000Z");
    let now = start;
    const waits: number[] = [];
    for (let attempt = 1; ; attempt++) {
      const wait = retryDelaySeconds(attempt, start.toISOString(), now);
      if (wait === null) break;
      waits.push(wait);
      now = new Date(now.getTime() + wait * 1000);
    }
    expect(waits).toEqual([10, 60, 300, 1800, 7200, 18_000, 36_000, 23_030]);
    expect(now.getTime() - start.getTime()).toBe(24 * HOUR);
  });
});

describe("a failing receiver is retried, then recovers", () => {
  it("HTTP 500: recorded, retried in 10 s, failing_since set; the next attempt's 2xx clears it", async () => {
    const { ms, pipeline, r, id } = await hookOn();
    await r.set({ failFirst: 1 });
    const job = jobOf(id, ms);
    const first = await deliverJobs([job], { env: pipeline.env, attempts: 1 });
    expect(first.result.retryMessages).toHaveLength(1);
    expect(Object.values(first.retryDelays)).toEqual([10]);
    expect((await row(id))?.failing_since).not.toBeNull();
    const second = await deliverJobs([job], { env: pipeline.env, attempts: 2 });
    expect(second.result.explicitAcks).toEqual(second.ids);
    expect((await row(id))?.failing_since).toBeNull();

    const [ok, failed] = await attempts(ms, id);
    expect(failed).toMatchObject({ attempt: 1, status_code: 500, error: "HTTP 500", event_id: job.event_id });
    expect(Date.parse(failed?.next_attempt_at as string) - Date.parse(failed?.delivered_at as string)).toBe(10_000);
    expect(ok).toMatchObject({ attempt: 2, status_code: 204, error: null, next_attempt_at: null });
    const received = await r.deliveries();
    expect(received.map((d) => d.headers["webhook-id"])).toEqual([job.event_id, job.event_id]);
    expect(received[0]?.body).toBe(received[1]?.body);
  });

  it("a redirect is a failure, not followed", async () => {
    const { ms, pipeline, r, id } = await hookOn();
    await r.set({ status: 302 });
    await deliverJobs([jobOf(id, ms)], { env: pipeline.env });
    expect((await attempts(ms, id))[0]).toMatchObject({ status_code: 302, error: "redirect (HTTP 302) not followed" });
  });

  it("a receiver that never answers times out; another receiver in the same batch is not held up", async () => {
    const slow = await hookOn();
    const fast = await hookOn();
    await slow.r.set({ hang: true });
    const batch = createMessageBatch(WEBHOOK_QUEUE_NAME, [
      { id: "m-slow", timestamp: new Date(), attempts: 1, body: jobOf(slow.id, slow.ms) },
      { id: "m-fast", timestamp: new Date(), attempts: 1, body: jobOf(fast.id, fast.ms) },
    ]);
    const ctx = createExecutionContext();
    const started = Date.now();
    await deliverWebhookBatch(buildDeps(slow.pipeline.env, ctx, "test"), batch as MessageBatch<unknown>, {
      timeoutMs: 1500,
    });
    const took = Date.now() - started;
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m-slow"]);
    expect(result.explicitAcks).toEqual(["m-fast"]);
    expect(took).toBeGreaterThanOrEqual(1500);
    const [fastReceived] = await fast.r.deliveries();
    expect((fastReceived?.received_at ?? Infinity) - started).toBeLessThan(1000);
    expect((await attempts(slow.ms, slow.id))[0]).toMatchObject({ status_code: null, error: "no answer within 1.5 s" });
  });

  it("24 h after the event the last failure is recorded and the message dropped", async () => {
    const { ms, pipeline, r, id } = await hookOn();
    await r.set({ status: 503 });
    const sent = await deliverJobs([jobOf(id, ms, new Date(Date.now() - 25 * HOUR))], {
      env: pipeline.env,
      attempts: 9,
    });
    expect(sent.result.explicitAcks).toEqual(sent.ids);
    expect((await attempts(ms, id))[0]).toMatchObject({ attempt: 9, status_code: 503, next_attempt_at: null });
  });
});

describe("a webhook failing for 3 days is disabled", () => {
  it("set active: false and audited webhook_disabled; its later events are skipped, a test still goes", async () => {
    const { ms, pipeline, r, id } = await hookOn();
    await r.set({ status: 500 });
    await runOnEveryShard(
      "update webhooks set failing_since = ? where id = ?",
      new Date(Date.now() - 3 * 24 * HOUR - 60_000).toISOString(),
      id,
    );
    const logs = captureLogs();
    await deliverJobs([jobOf(id, ms)], { env: pipeline.env });
    expect(await row(id)).toMatchObject({ active: 0 });
    expect(logs.messages("warn")).toEqual(["webhook disabled after 3 days of failures"]);
    const disabled = pipeline.audit.filter((e) => (e as { action: string }).action === "webhook_disabled");
    expect(disabled).toEqual([
      expect.objectContaining({ performed_by: "system", metadata: expect.objectContaining({ webhook_id: id }) }),
    ]);

    const before = (await r.deliveries()).length;
    const skipped = await deliverJobs([jobOf(id, ms)], { env: pipeline.env });
    expect(skipped.result.explicitAcks).toEqual(skipped.ids);
    expect((await r.deliveries()).length).toBe(before);
    expect(await attempts(ms, id)).toHaveLength(1);
  });

  it("failures younger than 3 days do not disable it", async () => {
    const { ms, pipeline, r, id } = await hookOn();
    await r.set({ status: 500 });
    await runOnEveryShard(
      "update webhooks set failing_since = ? where id = ?",
      new Date(Date.now() - 2 * 24 * HOUR).toISOString(),
      id,
    );
    await deliverJobs([jobOf(id, ms)], { env: pipeline.env });
    expect(await row(id)).toMatchObject({ active: 1 });
  });
});

describe("checked again at delivery", () => {
  it("a URL that is no longer allowed is not called; the attempt says why", async () => {
    const { ms, r, id } = await hookOn();
    // The same webhook delivered where loopback is not allowed (a deployed environment).
    const deployed = webhookEnv({ ALLOW_UNREGISTERED_DEVICES: "false" });
    await deliverJobs([jobOf(id, ms)], { env: deployed.env });
    expect(await r.deliveries()).toEqual([]);
    expect((await attempts(ms, id))[0]).toMatchObject({ status_code: null, error: "not sent: the URL must be https" });
  });

  it("deleted, deactivated or unsubscribed: skipped without an attempt", async () => {
    const a = await hookOn();
    const b = await hookOn(["access.denied"]);
    const c = await hookOn();
    await callJson("DELETE", `/api/v1/webhooks/${a.id}`, { token: a.token });
    await callJson("PUT", `/api/v1/webhooks/${c.id}`, { token: c.token, body: { active: false } });
    const sent = await deliverJobs([jobOf(a.id, a.ms), jobOf(b.id, b.ms), jobOf(c.id, c.ms)], { env: a.pipeline.env });
    expect(sent.result.explicitAcks).toHaveLength(3);
    for (const x of [b, c]) {
      expect(await x.r.deliveries()).toEqual([]);
      expect(await attempts(x.ms, x.id)).toEqual([]);
    }
  });

  it("a malformed message is dropped and logged", async () => {
    const logs = captureLogs();
    const sent = await deliverJobs([{ v: 2 }], { env: webhookEnv().env });
    expect(sent.result.explicitAcks).toEqual(sent.ids);
    expect(logs.messages("error")).toEqual(["malformed webhook message dropped"]);
  });
});
