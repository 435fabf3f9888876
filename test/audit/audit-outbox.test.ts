import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/events";
import { HOURLY_CRON } from "../../src/cron/scheduled";
import {
  auditEvent,
  auditRowCount,
  deliver,
  insertOutbox as insertOutboxRow,
  outboxRow,
  queueSpy,
  runCron,
} from "../helpers/audit";
import { callJson } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { shardDb } from "../helpers/shards";
import { admin } from "../helpers/tokens";

const minutes = (n: number) => new Date(Date.now() + n * 60_000);

async function insertOutbox(event: AuditEvent, payload = JSON.stringify(event)): Promise<void> {
  await insertOutboxRow(event, { payload });
}

describe("transactional outbox and its relay", () => {
  it("a failed Queue send leaves the event in the outbox; the next cron run sends it through the queue", async () => {
    const logged = captureLogs();
    const down = queueSpy({ fail: true });
    const created = await callJson<{ id: string }>("POST", "/api/v1/skills/", {
      token: await admin("ms-outbox"),
      env: down.env,
      body: { name: "Welding Basics", category: "Metal", level: "beginner", makerspace_id: "ms-outbox" },
    });
    // The change itself succeeded: the send failure is only logged.
    expect(created.status).toBe(201);
    expect(down.refused).toBe(1);
    expect(logged.lines).toEqual([
      expect.objectContaining({ level: "warn", msg: "audit send failed; left in outbox for the cron", events: 1 }),
    ]);

    const pending = await (await shardDb("ms-outbox"))
      .prepare("select id, payload, attempts from audit_outbox where json_extract(payload, '$.skill_id') = ?")
      .bind(created.body.id)
      .all<{ id: string; payload: string; attempts: number }>();
    expect(pending.results).toHaveLength(1);
    const stored = pending.results[0] as { id: string; payload: string; attempts: number };
    const event = JSON.parse(stored.payload) as AuditEvent;
    expect(event).toMatchObject({ id: stored.id, action: "skill_created", makerspace_id: "ms-outbox" });
    expect(stored.attempts).toBe(0);
    expect(await auditRowCount(event.id)).toBe(0);

    // A run within two minutes leaves it alone: its own send may still be on the way.
    const early = queueSpy();
    await runCron(HOURLY_CRON, minutes(1), early.env);
    expect(early.sent.map((e) => e.id)).not.toContain(event.id);

    const relay = queueSpy();
    await runCron(HOURLY_CRON, minutes(5), relay.env);
    expect(relay.sent.filter((e) => e.id === event.id)).toEqual([event]);

    // Queues delivers it to the consumer, which writes the row and clears the outbox entry.
    const { result, ids } = await deliver(relay.sent.filter((e) => e.id === event.id));
    expect(result.explicitAcks).toEqual(ids);
    expect(await auditRowCount(event.id)).toBe(1);
    expect(await outboxRow(event.id)).toBeNull();

    const logs = await callJson<{ items: { id: string; action: string }[] }>(
      "GET",
      `/api/v1/skills/audit-logs?skill_id=${created.body.id}`,
      { token: await admin("ms-outbox") },
    );
    expect(logs.status).toBe(200);
    expect(logs.body.items.map((i) => [i.id, i.action])).toEqual([[event.id, "skill_created"]]);
  });

  it("counts each relay attempt and keeps the row while the queue stays down", async () => {
    const logs = captureLogs();
    const event = auditEvent({ created_at: minutes(-10).toISOString() });
    await insertOutbox(event);
    const down = queueSpy({ fail: true });
    await runCron(HOURLY_CRON, new Date(), down.env);
    await runCron(HOURLY_CRON, new Date(), down.env);
    expect(down.refused).toBeGreaterThanOrEqual(2);
    expect(await outboxRow(event.id)).toMatchObject({ id: event.id, attempts: 2 });
    expect(await auditRowCount(event.id)).toBe(0);
    expect(new Set(logs.messages("warn"))).toEqual(new Set(["audit relay send failed; rows stay for the next run"]));

    const up = queueSpy();
    await runCron(HOURLY_CRON, new Date(), up.env);
    expect(up.sent.filter((e) => e.id === event.id)).toEqual([event]);
  });

  it("relays a backlog larger than one page, each event once per run", async () => {
    const events = Array.from({ length: 150 }, (_, i) =>
      auditEvent({ makerspace_id: "ms-backlog", created_at: new Date(Date.now() - 600_000 + i).toISOString() }),
    );
    const db = await shardDb("ms-backlog");
    await db.batch(
      events.map((e) =>
        db
          .prepare("insert into audit_outbox (id, payload, created_at, attempts) values (?, ?, ?, 0)")
          .bind(e.id, JSON.stringify(e), e.created_at),
      ),
    );
    const relay = queueSpy();
    await runCron(HOURLY_CRON, new Date(), relay.env);
    const sent = relay.sent.filter((e) => e.makerspace_id === "ms-backlog").map((e) => e.id);
    expect(sent).toHaveLength(150);
    expect(new Set(sent)).toEqual(new Set(events.map((e) => e.id)));
  });

  it("an unreadable outbox row goes to the dead letters at once and does not block the others", async () => {
    const logs = captureLogs();
    const broken = auditEvent({ created_at: minutes(-10).toISOString() });
    const good = auditEvent({ created_at: minutes(-10).toISOString() });
    await insertOutbox(broken, "{not json");
    await insertOutbox(good);
    const relay = queueSpy();
    await runCron(HOURLY_CRON, new Date(), relay.env);
    expect(relay.sent.map((e) => e.id)).toContain(good.id);
    expect(relay.sent.map((e) => e.id)).not.toContain(broken.id);
    expect(await outboxRow(broken.id)).toBeNull();
    const dead = await (await shardDb(broken.makerspace_id))
      .prepare("select payload, reason, makerspace_id from audit_dead_letters where id = ?")
      .bind(broken.id)
      .first();
    expect(dead).toEqual({ payload: "{not json", reason: "unreadable payload", makerspace_id: null });
    expect(logs.messages("error")).toContain("audit events moved to the dead letters");
  });

  it("through the real queue: a change made over HTTP reaches the audit log by itself", async () => {
    const created = await callJson<{ id: string }>("POST", "/api/v1/equipment", {
      token: await admin("ms-live"),
      body: { name: "Band Saw", makerspace_id: "ms-live" },
    });
    expect(created.status).toBe(201);
    const token = await admin("ms-live");
    const found = await eventuallyLogged(token, created.body.id);
    expect(found).toMatchObject({ action: "equipment_created", makerspace_id: "ms-live", performed_by: "admin-1" });
  });
});

async function eventuallyLogged(token: string, equipmentId: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await callJson<{ items: Record<string, unknown>[] }>(
      "GET",
      "/api/v1/skills/audit-logs?action=equipment_created",
      { token },
    );
    const item = res.body.items.find((i) => (i.metadata as { equipment_id?: string }).equipment_id === equipmentId);
    if (item) return item;
    if (Date.now() > deadline) throw new Error("event not written by the queue consumer within 15 s");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
