import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAILY_CRON, HOURLY_CRON } from "../../src/cron/scheduled";
import { auditEvent, auditRowCount, deliver, runCron } from "../helpers/audit";
import { countingEnv } from "../helpers/counting-d1";
import { envWith } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { shardDb, shards } from "../helpers/shards";

const DAY = 86_400_000;
const daysAgo = (now: Date, days: number, ms = 0) => new Date(now.getTime() - days * DAY + ms).toISOString();

async function countIn(makerspace: string): Promise<number> {
  const row = await (await shardDb(makerspace))
    .prepare("select count(*) as n from skill_audit_logs where makerspace_id = ?")
    .bind(makerspace)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("audit retention (daily cron)", () => {
  it("deletes only rows older than SKILL_AUDIT_RETENTION_DAYS (1825)", async () => {
    const now = new Date();
    const old = [auditEvent({ created_at: daysAgo(now, 1826) }), auditEvent({ created_at: daysAgo(now, 1825, -1) })];
    const kept = [
      auditEvent({ created_at: daysAgo(now, 1825) }),
      auditEvent({ created_at: daysAgo(now, 1824) }),
      auditEvent({ created_at: now.toISOString() }),
    ];
    await deliver([...old, ...kept]);

    // The hourly run never purges the log.
    await runCron(HOURLY_CRON, now);
    for (const e of old) expect(await auditRowCount(e.id)).toBe(1);

    await runCron(DAILY_CRON, now);
    for (const e of old) expect(await auditRowCount(e.id)).toBe(0);
    for (const e of kept) expect(await auditRowCount(e.id)).toBe(1);
  });

  it("follows the configured retention and purges a backlog larger than one batch", async () => {
    const now = new Date();
    const ms = "ms-retention-backlog";
    const db = await shardDb(ms);
    const stmt = db.prepare(
      "insert into skill_audit_logs (id, action, makerspace_id, metadata, created_at) values (?, 'skill_granted', ?, '{}', ?)",
    );
    await db.batch(Array.from({ length: 2500 }, (_, i) => stmt.bind(`old-${i}`, ms, daysAgo(now, 40, i))));
    const recent = auditEvent({ makerspace_id: ms, created_at: daysAgo(now, 29) });
    await deliver([recent]);

    await runCron(DAILY_CRON, now, envWith({ SKILL_AUDIT_RETENTION_DAYS: "30" }));
    expect(await countIn(ms)).toBe(1);
    expect(await auditRowCount(recent.id)).toBe(1);
  });

  it("access events leave D1 after ACCESS_EVENT_RETENTION_DAYS, by whole UTC days; change events stay", async () => {
    const ms = "ms-retention-access";
    const now = new Date("2026-06-15T03:30:00.000Z");
    // The cutoff is midnight UTC 90 days back: 2026-03-17T00:00:00.000Z.
    const events = {
      accessOld: auditEvent({ makerspace_id: ms, action: "access_granted", created_at: "2026-03-16T23:59:59.999Z" }),
      deniedOld: auditEvent({ makerspace_id: ms, action: "access_denied", created_at: "2026-01-02T10:00:00.000Z" }),
      accessKept: auditEvent({ makerspace_id: ms, action: "access_denied", created_at: "2026-03-17T00:00:00.000Z" }),
      changeOld: auditEvent({ makerspace_id: ms, action: "skill_granted", created_at: "2026-01-02T10:00:00.000Z" }),
    };
    await deliver(Object.values(events));
    await runCron(DAILY_CRON, now);
    expect(await auditRowCount(events.accessOld.id)).toBe(0);
    expect(await auditRowCount(events.deniedOld.id)).toBe(0);
    expect(await auditRowCount(events.accessKept.id)).toBe(1);
    expect(await auditRowCount(events.changeOld.id)).toBe(1);
    // The archive still holds the deleted ones.
    const archived = await env.AUDIT_ARCHIVE.list({ prefix: `audit/${ms}/2026/03/16/` });
    expect(archived.objects).toHaveLength(1);
  });

  it("keeps up: 300,000 old rows go in one run, 10,000 per statement, within Workers' limits", async () => {
    const ms = "ms-retention-300k";
    const now = new Date();
    const base = daysAgo(now, 2000);
    // Two-thirds access events a year old, one-third change events past the five years.
    await (await shardDb(ms))
      .prepare(
        `with recursive n(i) as (select 0 union all select i + 1 from n where i < 299999)
       insert into skill_audit_logs (id, action, user_id, makerspace_id, performed_by, metadata, created_at)
       select 'old-' || i, case when i % 3 = 0 then 'skill_granted' when i % 3 = 1 then 'access_granted' else 'access_denied' end,
         'member-' || (i % 5000), ?1, 'door-1', '{"equipment_id":"eq-1"}',
         case when i % 3 = 0 then strftime('%Y-%m-%dT%H:%M:%fZ', ?2, '+' || i || ' seconds')
              else strftime('%Y-%m-%dT%H:%M:%fZ', ?3, '+' || i || ' seconds') end
       from n`,
      )
      .bind(ms, base, daysAgo(now, 365))
      .run();
    const recent = auditEvent({ makerspace_id: ms, action: "access_granted", created_at: daysAgo(now, 1) });
    await deliver([recent]);

    const { env: counted, counter } = countingEnv();
    const started = Date.now();
    await runCron(DAILY_CRON, now, counted);
    const took = Date.now() - started;
    expect(await countIn(ms)).toBe(1);
    expect(await auditRowCount(recent.id)).toBe(1);
    // 20 + 10 full statements and one short one per phase: a million rows would take ~100. Every
    // other shard finds nothing, in one statement per phase. The daily run's other jobs add, per
    // shard, four queries with nothing to do (reminders: mark, read pending; webhook history: one
    // short delete per table).
    expect(counter.queries).toBeLessThanOrEqual(32 + 2 * (shards().length - 1) + 4 * shards().length);
    console.info(JSON.stringify({ level: "info", msg: "retention of 300k", ms: took, queries: counter.queries }));
  }, 180_000);

  it("an invalid retention setting fails the run and deletes nothing", async () => {
    const logs = captureLogs();
    const now = new Date();
    const old = auditEvent({ created_at: daysAgo(now, 4000) });
    await deliver([old]);
    await expect(runCron(DAILY_CRON, now, envWith({ SKILL_AUDIT_RETENTION_DAYS: "0" }))).rejects.toThrow();
    expect(await auditRowCount(old.id)).toBe(1);
    expect(logs.lines).toEqual([expect.objectContaining({ level: "error", msg: "invalid configuration" })]);
    expect(logs.lines[0]?.variables).toEqual([expect.stringMatching(/^SKILL_AUDIT_RETENTION_DAYS: /)]);
  });

  it("an unknown cron expression does nothing and does not fail", async () => {
    const now = new Date();
    const old = auditEvent({ created_at: daysAgo(now, 4000) });
    await deliver([old]);
    await runCron("*/5 * * * *", now);
    expect(await auditRowCount(old.id)).toBe(1);
  });
});

describe("webhook history retention (daily cron)", () => {
  it("deletes delivery attempts older than WEBHOOK_DELIVERY_RETENTION_DAYS and reminders 30 days past expiry", async () => {
    const now = new Date();
    const db = await shardDb("ms-retention");
    const attempt = db.prepare(
      `insert into webhook_deliveries (id, webhook_id, event_id, event_type, attempt, delivered_at)
       values (?, 'wh_retention', 'evt_r', 'webhook.test', 1, ?)`,
    );
    const marker = db.prepare(
      `insert into certification_reminders (user_skill_id, threshold_days, expires_at, makerspace_id, event_id, created_at)
       values (?, 1, ?, 'ms-retention', 'evt_m', ?)`,
    );
    await db.batch([
      attempt.bind("whd_old", daysAgo(now, 31)),
      attempt.bind("whd_kept", daysAgo(now, 29)),
      marker.bind("us_old", daysAgo(now, 31), daysAgo(now, 32)),
      marker.bind("us_kept", daysAgo(now, 29), daysAgo(now, 30)),
    ]);
    await runCron(DAILY_CRON, now);
    const left = await db
      .prepare(
        `select (select group_concat(id) from webhook_deliveries where webhook_id = 'wh_retention') as attempts,
              (select group_concat(user_skill_id) from certification_reminders where makerspace_id = 'ms-retention') as markers`,
      )
      .first<{ attempts: string; markers: string }>();
    expect(left).toEqual({ attempts: "whd_kept", markers: "us_kept" });
  });
});
