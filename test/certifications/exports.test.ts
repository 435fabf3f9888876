import { describe, expect, it } from "vitest";
import type { AuditLog } from "../../src/audit/audit.schemas";
import { mergeOldestFirst } from "../../src/audit/export";
import { EXPORT_COLUMNS, EXPORT_PAGE_ROWS } from "../../src/certifications/export";
import { parseCsv } from "../../src/platform/csv";
import { expectError, expectValidation } from "../helpers/assertions";
import { auditEvent, deliver } from "../helpers/audit";
import { uniqueUser } from "../helpers/certifications";
import { countingEnv } from "../helpers/counting-d1";
import { makeSkill } from "../helpers/factories";
import { bodyText, call, callJson } from "../helpers/http";
import { importCsv } from "../helpers/imports";
import { admin, member, superAdmin } from "../helpers/tokens";

async function exportCsv(query: string, token?: string, runEnv?: Env) {
  const res = await call("GET", `/api/v1/skills/user-skills/export${query}`, {
    token: token ?? (await admin()),
    ...(runEnv ? { env: runEnv } : {}),
  });
  return { res, text: await res.text() };
}

describe("GET /skills/user-skills/export", () => {
  it("streams every matching certification as CSV, page after page, with the effective status", async () => {
    const skill = await makeSkill();
    const rows = Array.from(
      { length: EXPORT_PAGE_ROWS * 2 + 7 },
      (_, i) => `exp-${String(i).padStart(4, "0")},${skill.id},,`,
    );
    rows.push(`exp-past,${skill.id},2020-01-01T00:00:00Z,"formula =1+1, quoted"`);
    rows.push(`exp-formula,${skill.id},,"=HYPERLINK(""x"")"`);
    const imported = await importCsv(`user_id,skill_id,expires_at,notes\n${rows.join("\n")}\n`);
    expect(imported.body.created).toBe(rows.length);

    const { env: counted, counter } = countingEnv();
    const { res, text } = await exportCsv(`?skill_id=${skill.id}`, undefined, counted);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain("certifications.csv");
    const records = [...parseCsv(text)].map((r) => r.fields);
    expect(records[0]).toEqual([...EXPORT_COLUMNS]);
    expect(records).toHaveLength(rows.length + 1);
    expect(new Set(records.slice(1).map((r) => r[0])).size).toBe(rows.length);
    // One keyset page per query: three pages, no page read twice.
    expect(counter.roundTrips).toBe(3);

    const col = (name: (typeof EXPORT_COLUMNS)[number]) => EXPORT_COLUMNS.indexOf(name);
    const past = records.find((r) => r[col("user_id")] === "exp-past") as string[];
    expect(past[col("status")]).toBe("expired");
    expect(past[col("notes")]).toBe("formula =1+1, quoted");
    const formula = records.find((r) => r[col("user_id")] === "exp-formula") as string[];
    expect(formula[col("notes")]).toBe(`'=HYPERLINK("x")`);
  });

  it("takes the list's filters: status and expiring_within_days (soonest first)", async () => {
    const skill = await makeSkill();
    const [soon, later, gone] = [uniqueUser(), uniqueUser(), uniqueUser()];
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
    await importCsv(
      `user_id,skill_id,expires_at\n${later},${skill.id},${day(20)}\n${soon},${skill.id},${day(3)}\n${gone},${skill.id},${day(-1)}\n`,
    );
    const expiring = await exportCsv(`?skill_id=${skill.id}&expiring_within_days=30`);
    expect([...parseCsv(expiring.text)].slice(1).map((r) => r.fields[1])).toEqual([soon, later]);
    const expired = await exportCsv(`?skill_id=${skill.id}&status=expired`);
    expect([...parseCsv(expired.text)].slice(1).map((r) => r.fields[1])).toEqual([gone]);
  });

  it("is for admins of the makerspace; an unknown filter is a 422 before anything streams", async () => {
    expectError(
      await callJson("GET", "/api/v1/skills/user-skills/export", { token: await member() }),
      403,
      "forbidden",
    );
    expectError(
      await callJson("GET", "/api/v1/skills/user-skills/export?makerspace_id=ms-2", { token: await admin() }),
      403,
      "forbidden",
    );
    expectValidation(await callJson("GET", "/api/v1/skills/user-skills/export?limit=5", { token: await admin() }), [
      "limit",
    ]);
    const other = await exportCsv("?makerspace_id=ms-2", await superAdmin());
    expect(other.res.status).toBe(200);
    expect(other.text.startsWith("id,user_id,")).toBe(true);
  });

  it("an empty result is the header alone", async () => {
    const { text } = await exportCsv("?user_id=nobody-at-all");
    expect(text).toBe(`${EXPORT_COLUMNS.join(",")}\r\n`);
  });
});

describe("GET /skills/audit-logs/export", () => {
  it("streams every matching event as NDJSON, oldest first, across pages", async () => {
    const user = uniqueUser("audit-export");
    const base = Date.parse("2026-03-01T00:00:00.000Z");
    const events = Array.from({ length: 1203 }, (_, i) =>
      auditEvent({ user_id: user, created_at: new Date(base + (i % 600) * 1000).toISOString() }),
    );
    for (let i = 0; i < events.length; i += 100) await deliver(events.slice(i, i + 100));

    const res = await call("GET", `/api/v1/skills/audit-logs/export?user_id=${user}`, { token: await admin() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const lines = (await bodyText(res))
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditLog);
    expect(lines).toHaveLength(events.length);
    const keys = lines.map((l) => `${l.created_at}|${l.id}`);
    expect(keys).toEqual([...keys].sort());
    expect(lines[0]).toEqual({
      id: expect.any(String),
      action: "skill_granted",
      user_id: user,
      skill_id: "skill-1",
      makerspace_id: "ms-1",
      performed_by: "admin-1",
      reason: null,
      metadata: {},
      created_at: "2026-03-01T00:00:00.000Z",
    });

    const ranged = await call(
      "GET",
      `/api/v1/skills/audit-logs/export?user_id=${user}&since=2026-03-01T00:01:00.000Z&until=2026-03-01T00:01:09.000Z&action=skill_granted`,
      { token: await admin() },
    );
    expect((await bodyText(ranged)).trimEnd().split("\n")).toHaveLength(20);
  });

  it("is scoped to the caller's makerspace and refuses since after until", async () => {
    const other = auditEvent({ makerspace_id: "ms-2", user_id: uniqueUser("ms2") });
    await deliver([other]);
    const mine = await call("GET", `/api/v1/skills/audit-logs/export?user_id=${other.user_id}`, {
      token: await admin(),
    });
    expect(await bodyText(mine)).toBe("");
    expectValidation(
      await callJson("GET", "/api/v1/skills/audit-logs/export?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", {
        token: await admin(),
      }),
      ["until"],
    );
    expectError(await callJson("GET", "/api/v1/skills/audit-logs/export", { token: await member() }), 403, "forbidden");
  });
});

describe("mergeOldestFirst (the seam for archived events)", () => {
  async function* seq(...items: [string, string][]): AsyncGenerator<AuditLog> {
    for (const [created_at, id] of items) yield { ...auditEvent({ id, created_at }) } as AuditLog;
  }

  it("interleaves sources in (created_at, id) order and gives an event found twice once", async () => {
    const merged: string[] = [];
    for await (const e of mergeOldestFirst([
      seq(["2026-01-01T00:00:01.000Z", "a"], ["2026-01-01T00:00:03.000Z", "c"], ["2026-01-01T00:00:05.000Z", "e"]),
      seq(["2026-01-01T00:00:02.000Z", "b"], ["2026-01-01T00:00:03.000Z", "c"], ["2026-01-01T00:00:04.000Z", "d"]),
      seq(),
    ])) {
      merged.push(e.id);
    }
    expect(merged).toEqual(["a", "b", "c", "d", "e"]);
  });
});
