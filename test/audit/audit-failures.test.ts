import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DEAD_LETTER_ORDER, listDeadLetters, retryDeadLetter } from "../../src/audit/dead-letters";
import type { AuditEvent } from "../../src/audit/events";
import { encodeCursor } from "../../src/audit/log";
import { droppedAuditEvents } from "../../src/audit/producer";
import { HOURLY_CRON } from "../../src/cron/scheduled";
import type { Deps } from "../../src/platform/context";
import { keysetAcrossShards } from "../../src/platform/db/fan-out";
import type { ShardName } from "../../src/platform/db/shards";
import { buildDeps } from "../../src/platform/deps";
import {
  auditEvent,
  auditRowCount,
  deliver,
  failingBatchEnv,
  insertOutbox as insertOutboxRow,
  outboxRow,
  queueSpy,
  runCron,
  shardEvent,
} from "../helpers/audit";
import { makeEquipment } from "../helpers/factories";
import { faultyEnv, TRANSIENT_D1_ERRORS } from "../helpers/faulty-d1";
import { callJson } from "../helpers/http";
import { onEveryShard, shardDb, shardOf, shards } from "../helpers/shards";
import { admin } from "../helpers/tokens";

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

async function insertOutbox(event: AuditEvent, attempts = 0, createdAt = event.created_at): Promise<void> {
  await insertOutboxRow(event, { attempts, createdAt });
}

async function deadLetter(id: string) {
  const rows = await onEveryShard(
    async (db) =>
      (await db.prepare("select * from audit_dead_letters where id = ?").bind(id).all<Record<string, unknown>>())
        .results,
  );
  return rows[0] ?? null;
}

async function clearBacklog(): Promise<void> {
  for (const { db } of shards()) {
    await db.batch([db.prepare("delete from audit_outbox"), db.prepare("delete from audit_dead_letters")]);
  }
}

/** Runs a service with deps over `runEnv`, waiting for its off-response work. */
async function withDeps<T>(runEnv: Env, run: (deps: ReturnType<typeof buildDeps>) => Promise<T>): Promise<T> {
  const ctx = createExecutionContext();
  const result = await run(buildDeps(runEnv, ctx, `test-${crypto.randomUUID()}`));
  await waitOnExecutionContext(ctx);
  return result;
}

describe("one event D1 rejects does not hold back its batch", () => {
  beforeAll(async () => {
    // A real D1 rejection of one row (no mock): the trigger refuses events whose reason is "poison".
    for (const { db } of shards()) {
      await db
        .prepare(
          `create trigger reject_poison before insert on skill_audit_logs when new.reason = 'poison'
           begin select raise(abort, 'poison event rejected'); end`,
        )
        .run();
    }
  });
  afterAll(async () => {
    for (const { db } of shards()) await db.prepare("drop trigger reject_poison").run();
  });

  it("the consumer writes and acks the 99 good events and retries only the bad one", async () => {
    const good = Array.from({ length: 99 }, () => auditEvent());
    const poison = auditEvent({ reason: "poison" });
    const db = await shardDb("ms-1");
    await db.batch(
      [...good, poison].map((e) =>
        db
          .prepare("insert into audit_outbox (id, payload, created_at, attempts) values (?, ?, ?, 0)")
          .bind(e.id, JSON.stringify(e), e.created_at),
      ),
    );
    const bodies = [...good.slice(0, 50), poison, ...good.slice(50)];
    const { result, ids, retryDelays } = await deliver(bodies, { attempts: 2 });
    const poisonMsg = ids[50] as string;
    expect(result.retryMessages).toEqual([{ msgId: poisonMsg }]);
    expect(retryDelays).toEqual({ [poisonMsg]: 20 });
    expect([...result.explicitAcks].sort()).toEqual(ids.filter((id) => id !== poisonMsg).sort());
    for (const e of good) {
      expect(await auditRowCount(e.id)).toBe(1);
      expect(await outboxRow(e.id)).toBeNull();
    }
    expect(await auditRowCount(poison.id)).toBe(0);
    expect(await outboxRow(poison.id)).not.toBeNull();
  });

  it("a transient D1 failure retries the batch without writing message by message", async () => {
    const events = Array.from({ length: 5 }, () => auditEvent());
    const { env: down, log } = faultyEnv({ failures: 1, message: TRANSIENT_D1_ERRORS[0], only: "writes" });
    const { result, ids } = await deliver(events, { env: down });
    expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual([...ids].sort());
    expect(log.writes).toBe(1);
  });
});

describe("verify events that can be neither sent nor written", () => {
  it("are counted and logged as lost with their request id", async () => {
    const eq = await makeEquipment({ makerspace_id: "ms-lost" });
    const spy = queueSpy({ fail: true });
    const broken = { ...failingBatchEnv(), AUDIT_QUEUE: spy.env.AUDIT_QUEUE } as Env;
    const errors = vi.spyOn(console, "error");
    const before = droppedAuditEvents();
    const requestId = `verify-lost-${crypto.randomUUID()}`;
    const res = await callJson("POST", `/api/v1/skills/access/equipment/${eq.id}/verify`, {
      token: await admin("ms-lost"),
      body: { user_id: "anyone" },
      headers: { "x-request-id": requestId },
      env: broken,
    });
    expect(res.status).toBe(200);
    expect(droppedAuditEvents()).toBe(before + 1);
    const lines = errors.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>);
    errors.mockRestore();
    const lost = lines.find((l) => l.msg === "audit events lost: queue send and direct write both failed");
    expect(lost).toMatchObject({
      level: "error",
      events: 1,
      lost: [{ action: "access_granted", request_id: requestId, event_id: expect.any(String) }],
    });
  });
});

describe("the relay's dead letters", () => {
  beforeEach(clearBacklog);

  it("after 10 relay attempts an event moves to audit_dead_letters and is re-sent no more", async () => {
    const event = auditEvent({ makerspace_id: "ms-dead", action: "skill_revoked" });
    await insertOutbox(event, 9, minutesAgo(30));
    const tenth = queueSpy();
    await runCron(HOURLY_CRON, new Date(), tenth.env);
    expect(tenth.sent.map((e) => e.id)).toEqual([event.id]);
    expect(await outboxRow(event.id)).toMatchObject({ attempts: 10 });

    const next = queueSpy();
    await runCron(HOURLY_CRON, new Date(), next.env);
    expect(next.sent).toEqual([]);
    expect(await outboxRow(event.id)).toBeNull();
    expect(await deadLetter(event.id)).toMatchObject({
      payload: JSON.stringify(event),
      makerspace_id: "ms-dead",
      action: "skill_revoked",
      attempts: 10,
      reason: "not written after 10 relay attempts",
    });
  });

  it("listDeadLetters pages newest failure first; retryDeadLetter re-queues once", async () => {
    const events = [await shardEvent({ makerspace_id: "ms-dl-a" }), await shardEvent({ makerspace_id: "ms-dl-b" })];
    for (const e of events) await insertOutbox(e, 10, minutesAgo(30));
    // An unreadable row names no makerspace; untagged, it is SHARD_0's.
    await env.SHARD_0.prepare(
      "insert into audit_outbox (id, payload, created_at, attempts) values ('evt-garbled', 'x', ?, 0)",
    )
      .bind(minutesAgo(30))
      .run();
    await runCron(HOURLY_CRON, new Date(), queueSpy().env);

    const page = async (deps: Deps, q: { limit: number; cursor?: string; makerspace_id?: string }) =>
      keysetAcrossShards(
        deps,
        q.makerspace_id === undefined,
        q.limit,
        (d) => listDeadLetters(d, q),
        DEAD_LETTER_ORDER,
        (d) => encodeCursor({ createdAt: d.failed_at, id: d.id }),
      );
    const page1 = await withDeps(env, (deps) => page(deps, { limit: 2 }));
    expect(page1.items).toHaveLength(2);
    expect(page1.next_cursor).not.toBeNull();
    const page2 = await withDeps(env, (deps) => page(deps, { limit: 2, cursor: page1.next_cursor ?? "" }));
    const all = [...page1.items, ...page2.items];
    expect(all.map((d) => d.id).sort()).toEqual([...events.map((e) => e.id), "evt-garbled"].sort());
    const garbled = all.find((d) => d.id === "evt-garbled");
    expect(garbled).toMatchObject({ event: null, payload: "x", reason: "unreadable payload", makerspace_id: null });
    const home = (await shardOf("ms-dl-a")) as ShardName;
    const one = await withDeps(env, (deps) =>
      listDeadLetters(deps.onShard(home), { limit: 50, makerspace_id: "ms-dl-a" }),
    );
    expect(one.items.map((d) => d.event)).toEqual([events[0]]);

    const target = events[0] as AuditEvent;
    const spy = queueSpy();
    expect(await withDeps(spy.env, (deps) => retryDeadLetter(deps.onShard(home), target.id))).toEqual({
      id: target.id,
      requeued: true,
    });
    expect(spy.sent).toEqual([target]);
    expect(await deadLetter(target.id)).toBeNull();
    expect(await outboxRow(target.id)).toMatchObject({ attempts: 0 });
    await expect(withDeps(env, (deps) => retryDeadLetter(deps.onShard(home), target.id))).rejects.toMatchObject({
      type: "not_found",
    });
    await expect(withDeps(env, (deps) => retryDeadLetter(deps, "evt-garbled"))).rejects.toMatchObject({
      type: "invalid_state",
    });

    const { result, ids } = await deliver(spy.sent);
    expect(result.explicitAcks).toEqual(ids);
    expect(await auditRowCount(target.id)).toBe(1);
    expect(await outboxRow(target.id)).toBeNull();
  });

  it("an event written after all (a late delivery) clears its dead letter", async () => {
    const event = auditEvent();
    await insertOutbox(event, 10, minutesAgo(30));
    await runCron(HOURLY_CRON, new Date(), queueSpy().env);
    expect(await deadLetter(event.id)).not.toBeNull();
    await deliver([event]);
    expect(await deadLetter(event.id)).toBeNull();
    expect(await auditRowCount(event.id)).toBe(1);
  });
});

describe("GET /health?deep=1 reports the audit backlog", () => {
  beforeEach(clearBacklog);
  const deep = () =>
    callJson<{ status: string; checks: Record<string, unknown> }>("GET", "/health?deep=1", { token: undefined });

  it("ok with an empty outbox and no dead letters", async () => {
    const res = await deep();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: "ok",
      checks: {
        d1: "ok",
        schema: "ok",
        kv: "ok",
        shards: { SHARD_0: "ok", SHARD_1: "ok" },
        outbox: { pending: 0, oldest_age_s: 0 },
        dead_letters: 0,
        audit_events_lost: expect.any(Number),
        rate_limited: expect.objectContaining({ caller: expect.any(Number) }),
      },
    });
  });

  it("ok while the oldest outbox event is under 10 minutes old, degraded past it", async () => {
    await insertOutbox(auditEvent(), 0, minutesAgo(9));
    let res = await deep();
    expect(res.body.status).toBe("ok");
    expect(res.body.checks.outbox).toEqual({ pending: 1, oldest_age_s: expect.any(Number) });
    await insertOutbox(auditEvent(), 0, minutesAgo(11));
    res = await deep();
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("degraded");
    const outbox = res.body.checks.outbox as { pending: number; oldest_age_s: number };
    expect(outbox.pending).toBe(2);
    expect(outbox.oldest_age_s).toBeGreaterThanOrEqual(660);
  });

  it("degraded while a dead letter exists", async () => {
    await insertOutbox(auditEvent(), 10, minutesAgo(5));
    await runCron(HOURLY_CRON, new Date(), queueSpy().env);
    const res = await deep();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "degraded", checks: { dead_letters: 1, outbox: { pending: 0 } } });
  });
});
