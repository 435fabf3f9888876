import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { archiveObjects } from "../../src/audit/archive";
import type { AuditEvent } from "../../src/audit/events";
import { DAILY_CRON } from "../../src/cron/scheduled";
import { expectError, expectValidation } from "../helpers/assertions";
import { auditEvent, auditRowCount, deliver, runCron } from "../helpers/audit";
import { call, callJson } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { shardDb } from "../helpers/shards";
import { admin, member, superAdmin } from "../helpers/tokens";

const DAY = 86_400_000;
const at = (now: Date, daysBack: number, ms = 0) => new Date(now.getTime() - daysBack * DAY + ms).toISOString();

async function exported(
  query: string,
  token?: string,
): Promise<{ status: number; type: string; events: AuditEvent[] }> {
  const res = await call("GET", `/api/v1/skills/audit-logs/export${query}`, { token: token ?? (await admin()) });
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  if (res.status !== 200) return { status: res.status, type, events: [] };
  expect(text === "" || text.endsWith("\n")).toBe(true);
  const events = text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AuditEvent);
  return { status: res.status, type, events };
}

const ids = (events: AuditEvent[]) => events.map((e) => e.id);
const ordered = (events: AuditEvent[]) =>
  [...events].sort((a, b) =>
    a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1,
  );

describe("audit archive (R2) and export (NDJSON)", () => {
  it("archives access events per makerspace and UTC day, named by their ids; other events are not archived", async () => {
    const ms = "ms-arch-layout";
    const events = [
      auditEvent({ makerspace_id: ms, action: "access_granted", created_at: "2025-02-03T23:59:59.999Z" }),
      auditEvent({ makerspace_id: ms, action: "access_denied", created_at: "2025-02-03T08:00:00.000Z" }),
      auditEvent({ makerspace_id: ms, action: "access_denied", created_at: "2025-02-04T00:00:00.000Z" }),
      auditEvent({ makerspace_id: ms, action: "skill_granted", created_at: "2025-02-03T09:00:00.000Z" }),
      auditEvent({ makerspace_id: "ms/slash", action: "access_granted", created_at: "2025-02-03T09:00:00.000Z" }),
    ];
    const { result, ids: messageIds } = await deliver(events);
    expect(result.explicitAcks.sort()).toEqual([...messageIds].sort());
    const listed = await env.AUDIT_ARCHIVE.list({ prefix: `audit/${ms}/` });
    const keys = listed.objects.map((o) => o.key).sort();
    expect(keys).toEqual([
      expect.stringMatching(new RegExp(`^audit/${ms}/2025/02/03/[0-9a-f]{32}\\.ndjson$`)),
      expect.stringMatching(new RegExp(`^audit/${ms}/2025/02/04/[0-9a-f]{32}\\.ndjson$`)),
    ]);
    const day3 = await (await env.AUDIT_ARCHIVE.get(keys[0] as string))?.text();
    // One event per line, in time order, exactly the events as delivered.
    expect(day3?.split("\n")).toEqual([JSON.stringify(events[1]), JSON.stringify(events[0]), ""]);
    expect((await env.AUDIT_ARCHIVE.list({ prefix: "audit/ms%2Fslash/2025/02/03/" })).objects).toHaveLength(1);
    // Every event also reached D1.
    for (const e of events) expect(await auditRowCount(e.id)).toBe(1);
  });

  it("a redelivered batch rewrites the same object; a partial redelivery is read once", async () => {
    const ms = "ms-arch-redeliver";
    const batch = [0, 1, 2].map((i) =>
      auditEvent({ makerspace_id: ms, action: "access_granted", created_at: `2025-03-01T10:00:0${i}.000Z` }),
    );
    await deliver(batch);
    await deliver([...batch].reverse());
    let listed = await env.AUDIT_ARCHIVE.list({ prefix: `audit/${ms}/` });
    expect(listed.objects).toHaveLength(1);
    expect((await archiveObjects(batch))[0]?.key).toBe(listed.objects[0]?.key);
    // Only the second message comes back (it alone was retried): a second object holds it again.
    await deliver([batch[1]]);
    listed = await env.AUDIT_ARCHIVE.list({ prefix: `audit/${ms}/` });
    expect(listed.objects).toHaveLength(2);
    const out = await exported(`?makerspace_id=${ms}&since=2025-03-01T00:00:00.000Z`, await admin(ms));
    expect(ids(out.events)).toEqual(ids(batch));
  });

  it("exports D1 and the archive in time order, each event once, after retention moved old access events out", async () => {
    const ms = "ms-export-merge";
    const now = new Date();
    const events = [
      // Long gone from D1: only the archive has them.
      auditEvent({ makerspace_id: ms, action: "access_granted", user_id: "u-a", created_at: at(now, 300) }),
      auditEvent({ makerspace_id: ms, action: "access_denied", user_id: "u-b", created_at: at(now, 200) }),
      // A change event of the same age stays in D1 (5 years).
      auditEvent({ makerspace_id: ms, action: "skill_granted", user_id: "u-a", created_at: at(now, 250) }),
      // Around the boundary: 91 and 90 days back, then recent.
      auditEvent({ makerspace_id: ms, action: "access_granted", user_id: "u-a", created_at: at(now, 91) }),
      auditEvent({ makerspace_id: ms, action: "access_granted", user_id: "u-b", created_at: at(now, 90, 1000) }),
      auditEvent({ makerspace_id: ms, action: "access_denied", user_id: "u-a", created_at: at(now, 10) }),
      auditEvent({ makerspace_id: ms, action: "skill_revoked", user_id: "u-b", created_at: at(now, 5) }),
      // Another makerspace's events never appear.
      auditEvent({ makerspace_id: "ms-export-other", action: "access_granted", created_at: at(now, 300) }),
    ];
    await deliver(events.slice(0, 4));
    await deliver(events.slice(4));
    await runCron(DAILY_CRON, now);
    expect(await auditRowCount(events[0]?.id as string)).toBe(0);
    expect(await auditRowCount(events[3]?.id as string)).toBe(0);
    expect(await auditRowCount(events[2]?.id as string)).toBe(1);

    const mine = ordered(events.filter((e) => e.makerspace_id === ms));
    const all = await exported("", await admin(ms));
    expect(all.status).toBe(200);
    expect(all.type).toBe("application/x-ndjson; charset=utf-8");
    expect(all.events).toEqual(mine);
    // Filters apply to both sources alike.
    expect(ids((await exported("?user_id=u-a", await admin(ms))).events)).toEqual(
      ids(mine.filter((e) => e.user_id === "u-a")),
    );
    expect(ids((await exported("?action=access_granted", await admin(ms))).events)).toEqual(
      ids(mine.filter((e) => e.action === "access_granted")),
    );
    expect(ids((await exported("?action=skill_revoked", await admin(ms))).events)).toEqual(
      ids(mine.filter((e) => e.action === "skill_revoked")),
    );
    const since = at(now, 250);
    const until = at(now, 10);
    expect(ids((await exported(`?since=${since}&until=${until}`, await admin(ms))).events)).toEqual(
      ids(mine.filter((e) => e.created_at >= since && e.created_at <= until)),
    );
    // Before the daily run has deleted anything, the same events appear once each too.
    const early = "ms-export-early";
    const copies = events.slice(0, 7).map((e) => ({ ...e, id: `${e.id}-early`, makerspace_id: early }));
    await deliver(copies);
    expect((await exported("", await admin(early))).events).toEqual(ordered(copies));
  });

  it("streams more than one D1 page and many archived days", async () => {
    const ms = "ms-export-many";
    const now = new Date();
    const old = Array.from({ length: 120 }, (_, i) =>
      auditEvent({ makerspace_id: ms, action: "access_granted", created_at: at(now, 200 + (i % 40), i) }),
    );
    await deliver(old.slice(0, 60));
    await deliver(old.slice(60));
    await runCron(DAILY_CRON, now);
    const db = await shardDb(ms);
    const stmt = db.prepare(
      "insert into skill_audit_logs (id, action, makerspace_id, metadata, created_at) values (?, 'skill_updated', ?, '{}', ?)",
    );
    const recent = Array.from({ length: 6000 }, (_, i) => ({
      id: `recent-${String(i).padStart(5, "0")}`,
      at: at(now, 30, i),
    }));
    for (let i = 0; i < recent.length; i += 500) {
      await db.batch(recent.slice(i, i + 500).map((r) => stmt.bind(r.id, ms, r.at)));
    }
    const out = await exported("", await admin(ms));
    expect(out.events).toHaveLength(6120);
    expect(ids(out.events.slice(0, 120))).toEqual(ids(ordered(old)));
    expect(ids(out.events.slice(120))).toEqual(recent.map((r) => r.id));
  });

  it("an event whose archive object R2 refuses is retried, not written to D1 alone", async () => {
    const logs = captureLogs();
    const refusing = new Proxy(env.AUDIT_ARCHIVE, {
      get(target, prop) {
        if (prop === "put") return async () => Promise.reject(new Error("R2 put failed (injected)"));
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const access = auditEvent({ makerspace_id: "ms-arch-fail", action: "access_denied" });
    const change = auditEvent({ makerspace_id: "ms-arch-fail", action: "skill_granted" });
    const { result, ids: messageIds } = await deliver([access, change], {
      env: { ...env, AUDIT_ARCHIVE: refusing } as Env,
    });
    expect(result.explicitAcks).toEqual([messageIds[1]]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([messageIds[0]]);
    expect(await auditRowCount(access.id)).toBe(0);
    expect(await auditRowCount(change.id)).toBe(1);
    expect(logs.messages()).toContain("access events not archived; retrying them");
    // Redelivered once R2 is back: archived, then written.
    await deliver([access]);
    expect(await auditRowCount(access.id)).toBe(1);
  });

  it("is for admins; a super_admin names the makerspace; bounds are checked", async () => {
    const path = "/api/v1/skills/audit-logs/export";
    expectError(await callJson("GET", path, { token: await member() }), 403, "forbidden");
    expectError(await callJson("GET", `${path}?makerspace_id=ms-2`, { token: await admin() }), 403, "forbidden");
    expectValidation(await callJson("GET", path, { token: await superAdmin() }), ["makerspace_id"]);
    expect((await exported("?makerspace_id=ms-1", await superAdmin())).status).toBe(200);
    expectValidation(
      await callJson("GET", `${path}?since=2026-01-02T00:00:00.000Z&until=2026-01-01T00:00:00.000Z`, {
        token: await admin(),
      }),
      ["until"],
    );
  });
});
