import { describe, expect, it, vi } from "vitest";
import { DAILY_CRON, HOURLY_CRON } from "../../src/cron/scheduled";
import { auditEvent, auditRowCount, deliver, insertOutbox, queueSpy, runCron } from "../helpers/audit";
import { makeSkill } from "../helpers/factories";
import { shardDb, shardOf, shards } from "../helpers/shards";

/** The hourly and daily runs, the outbox relay and the queue consumer cover every shard. */
const A = "ms-1";
const B = "ms-2";
const DAY = 86_400_000;

async function seedOverdue(ms: string, n: number, now: Date): Promise<string[]> {
  const skill = await makeSkill({ makerspace_id: ms });
  const db = await shardDb(ms);
  const past = new Date(now.getTime() - DAY).toISOString();
  const ids = Array.from({ length: n }, (_, i) => `us_maint_${ms}_${i}`);
  await db.batch(
    ids.map((id, i) =>
      db
        .prepare(
          `insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at, certified_by, created_at, updated_at)
           values (?, ?, ?, ?, 'certified', ?, ?, 'seed', ?, ?)`,
        )
        .bind(id, `maint-user-${i}`, skill.id, ms, past, past, past, past),
    ),
  );
  return ids;
}

async function statuses(ms: string): Promise<string[]> {
  const { results } = await (await shardDb(ms))
    .prepare("select status from user_skills where id like ? order by id")
    .bind(`us_maint_${ms}_%`)
    .all<{ status: string }>();
  return results.map((r) => r.status);
}

describe("scheduled maintenance on every shard", () => {
  it("the hourly run expires overdue certifications on each shard and logs a summary per shard", async () => {
    expect(await shardOf(A)).not.toBe(await shardOf(B));
    const info = vi.spyOn(console, "log");
    const now = new Date();
    await seedOverdue(A, 3, now);
    await seedOverdue(B, 2, now);
    await runCron(HOURLY_CRON, now, queueSpy().env);
    expect(await statuses(A)).toEqual(Array(3).fill("expired"));
    expect(await statuses(B)).toEqual(Array(2).fill("expired"));
    const lines = info.mock.calls.map((args) => String(args[0])).filter((l) => l.includes('"scheduled run"'));
    info.mockRestore();
    const run = JSON.parse(lines[0] as string) as { expiry: Record<string, { expired: number }> };
    expect(run.expiry[(await shardOf(A)) as string]).toMatchObject({ expired: 3 });
    expect(run.expiry[(await shardOf(B)) as string]).toMatchObject({ expired: 2 });
  });

  it("the relay re-sends stalled outbox rows of every shard", async () => {
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    const stalled = [
      auditEvent({ makerspace_id: A, created_at: old }),
      auditEvent({ makerspace_id: B, created_at: old }),
    ];
    for (const e of stalled) await insertOutbox(e);
    const relay = queueSpy();
    await runCron(HOURLY_CRON, new Date(), relay.env);
    expect(relay.sent.map((e) => e.id).sort()).toEqual(stalled.map((e) => e.id).sort());
  });

  it("the daily run deletes old audit rows on every shard", async () => {
    const now = new Date();
    const ancient = new Date(now.getTime() - 4000 * DAY).toISOString();
    const old = [
      auditEvent({ makerspace_id: A, created_at: ancient }),
      auditEvent({ makerspace_id: B, created_at: ancient }),
    ];
    const recent = [auditEvent({ makerspace_id: A }), auditEvent({ makerspace_id: B })];
    await deliver([...old, ...recent]);
    await runCron(DAILY_CRON, now);
    for (const e of old) expect(await auditRowCount(e.id)).toBe(0);
    for (const e of recent) expect(await auditRowCount(e.id)).toBe(1);
  });
});

describe("the audit consumer writes each event on its makerspace's shard", () => {
  it("one batch with events of two shards: each row and each outbox deletion on its own shard", async () => {
    const events = [
      auditEvent({ makerspace_id: A }),
      auditEvent({ makerspace_id: B }),
      auditEvent({ makerspace_id: A }),
    ];
    for (const e of events) await insertOutbox(e);
    const { result, ids } = await deliver(events);
    expect(result.explicitAcks).toEqual(ids);
    for (const e of events) {
      const home = await shardOf(e.makerspace_id);
      for (const { name, db } of shards()) {
        const row = await db
          .prepare(
            "select (select count(*) from skill_audit_logs where id = ?1) as logged, (select count(*) from audit_outbox where id = ?1) as pending",
          )
          .bind(e.id)
          .first<{ logged: number; pending: number }>();
        expect(row, `${e.makerspace_id} on ${name}`).toEqual({ logged: name === home ? 1 : 0, pending: 0 });
      }
    }
  });

  it("an event of a makerspace nothing was written for places it, and lands where its rows will be", async () => {
    const event = auditEvent({ makerspace_id: "ms-maint-new" });
    await deliver([event]);
    const home = await shardOf("ms-maint-new");
    expect(home).not.toBeNull();
    await makeSkill({ makerspace_id: "ms-maint-new" });
    expect(await shardOf("ms-maint-new")).toBe(home);
    const row = await (await shardDb("ms-maint-new"))
      .prepare("select count(*) as n from skill_audit_logs where id = ?")
      .bind(event.id)
      .first<{ n: number }>();
    expect(row?.n).toBe(1);
  });
});
