import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { AuditLogQuerySchema } from "../../src/audit/audit.schemas";
import type { AuditAction } from "../../src/audit/events";
import { auditLogQuery, encodeCursor } from "../../src/audit/log";
import { createDb } from "../../src/platform/db/client";
import { expectValidation } from "../helpers/assertions";
import { callJson } from "../helpers/http";
import { shardDb } from "../helpers/shards";
import { admin } from "../helpers/tokens";

const MS = "ms-listing-limits";

/** `n` badges of one makerspace, written straight to D1 in creation order. */
async function seedBadges(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `badge-ll-${String(i).padStart(5, "0")}`);
  const base = Date.parse("2026-01-01T00:00:00.000Z");
  const db = await shardDb(MS);
  for (let from = 0; from < n; from += 500) {
    await db.batch(
      ids
        .slice(from, from + 500)
        .map((id, i) =>
          db
            .prepare(
              "insert into badges (id, user_id, makerspace_id, uid_sha256, uid_last4, created_at) values (?, ?, ?, ?, 'ABCD', ?)",
            )
            .bind(id, `member-${from + i}`, MS, `hash-${id}`, new Date(base + (from + i) * 1000).toISOString()),
        ),
    );
  }
  return ids;
}

describe("GET /badges is paged, never cut at a fixed size", () => {
  let badgeIds: string[];
  beforeAll(async () => {
    badgeIds = await seedBadges(1005);
  });

  const list = async (query: string) =>
    callJson<{ id: string }[]>("GET", `/api/v1/badges${query}`, { token: await admin(MS) });

  it("pages through more than 1,000 badges in creation order with limit and offset", async () => {
    const pages = await Promise.all([0, 500, 1000].map((offset) => list(`?limit=500&offset=${offset}`)));
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(pages.map((p) => p.body.length)).toEqual([500, 500, 5]);
    expect(pages.flatMap((p) => p.body.map((b) => b.id))).toEqual(badgeIds);
  });

  it("limit defaults to 200 and allows up to 500", async () => {
    expect((await list("")).body.map((b) => b.id)).toEqual(badgeIds.slice(0, 200));
    expect((await list("?limit=500")).body).toHaveLength(500);
    expectValidation(await list("?limit=501"), ["limit"]);
    expectValidation(await list("?limit=0"), ["limit"]);
  });
});

describe("offset has a maximum of 10,000 on every paged list", () => {
  it.each([
    "/api/v1/skills/",
    "/api/v1/equipment",
    "/api/v1/skills/user-skills",
    "/api/v1/skills/requests",
    "/api/v1/devices",
    "/api/v1/badges",
  ])("%s: offset 10000 is served, 10001 is 422", async (path) => {
    const token = await admin(MS);
    const at = await callJson<unknown[]>("GET", `${path}?offset=10000`, { token });
    expect(at.status, JSON.stringify(at.body)).toBe(200);
    expect(at.body).toEqual([]);
    expectValidation(await callJson("GET", `${path}?offset=10001`, { token }), ["offset"]);
  });
});

describe("audit-log filters are served by indexes", () => {
  beforeAll(async () => {
    const actions: AuditAction[] = ["skill_granted", "access_granted", "access_denied", "skill_revoked"];
    const base = Date.parse("2026-01-01T00:00:00.000Z");
    // Plans depend on the schema, not on the shard: SHARD_0 serves for all four makerspaces here.
    await env.SHARD_0.batch(
      Array.from({ length: 400 }, (_, i) =>
        env.SHARD_0.prepare(
          "insert into skill_audit_logs (id, action, user_id, skill_id, makerspace_id, performed_by, metadata, created_at) values (?, ?, ?, 'skill-1', ?, 'admin-1', '{}', ?)",
        ).bind(
          `evt-ll-${i}`,
          actions[i % actions.length] as string,
          `member-${i % 40}`,
          `ms-ll-${i % 4}`,
          new Date(base + i * 1000).toISOString(),
        ),
      ),
    );
  });

  /** SQLite's plan for the query the service sends for this filter. */
  async function plan(makerspaceId: string | undefined, query: Record<string, string>): Promise<string> {
    const q = AuditLogQuerySchema.parse(query);
    const { sql, params } = auditLogQuery({ db: createDb(env.SHARD_0) }, makerspaceId, q).toSQL();
    const rows = await env.SHARD_0.prepare(`explain query plan ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    return rows.results.map((r) => r.detail).join("; ");
  }

  it.each([
    ["a makerspace's events of one member", "ms-ll-1", { user_id: "member-1" }, "idx_skill_audit_logs_user_date"],
    [
      "one member across makerspaces (super_admin)",
      undefined,
      { user_id: "member-1" },
      "idx_skill_audit_logs_user_date",
    ],
    [
      "one action in a makerspace",
      "ms-ll-1",
      { action: "access_denied" },
      "idx_skill_audit_logs_makerspace_action_date",
    ],
    [
      "one action in a makerspace, after a cursor",
      "ms-ll-1",
      { action: "access_denied", cursor: encodeCursor({ createdAt: "2026-01-01T00:01:00.000Z", id: "evt-ll-60" }) },
      "idx_skill_audit_logs_makerspace_action_date",
    ],
  ] as const)("%s", async (_label, makerspaceId, query, index) => {
    const detail = await plan(makerspaceId, { ...query });
    expect(detail).toContain(index);
    expect(detail).not.toContain("TEMP B-TREE");
  });
});
