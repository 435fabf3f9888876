import { describe, expect, it } from "vitest";
import { DAILY_CRON, HOURLY_CRON } from "../../src/cron/scheduled";
import { auditEvent, auditRowCount, deliver, runCron } from "../helpers/audit";
import { envWith } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { shardDb } from "../helpers/shards";

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
