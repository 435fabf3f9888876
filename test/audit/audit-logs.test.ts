import { beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/events";
import { expectError, expectUnauthorized, expectValidation } from "../helpers/assertions";
import { auditEvent, deliver } from "../helpers/audit";
import { callJson } from "../helpers/http";
import { admin, device, member, superAdmin } from "../helpers/tokens";

interface Page {
  items: Record<string, unknown>[];
  next_cursor: string | null;
}

const MS = "ms-al";
const OTHER = "ms-al-other";
const at = (minute: number) => new Date(Date.UTC(2026, 0, 15, 10, minute, 0, 0)).toISOString();

// Ten events of MS (two sharing a millisecond), two of OTHER; written through the consumer.
const events: AuditEvent[] = [
  auditEvent({ makerspace_id: MS, created_at: at(0), action: "skill_created", user_id: null, skill_id: "sk-a" }),
  auditEvent({ makerspace_id: MS, created_at: at(1), action: "skill_granted", user_id: "u-1", skill_id: "sk-a" }),
  auditEvent({ makerspace_id: MS, created_at: at(2), action: "skill_granted", user_id: "u-2", skill_id: "sk-a" }),
  auditEvent({ makerspace_id: MS, created_at: at(3), action: "access_denied", user_id: "u-1", skill_id: null }),
  auditEvent({ makerspace_id: MS, created_at: at(4), action: "skill_revoked", user_id: "u-1", skill_id: "sk-a" }),
  auditEvent({ makerspace_id: MS, created_at: at(5), action: "skill_granted", user_id: "u-1", skill_id: "sk-b" }),
  auditEvent({ makerspace_id: MS, created_at: at(5), action: "skill_granted", user_id: "u-3", skill_id: "sk-b" }),
  auditEvent({
    makerspace_id: MS,
    created_at: at(6),
    action: "skill_expired",
    user_id: "u-2",
    skill_id: "sk-a",
    performed_by: "system",
    reason: "Certification expired",
    metadata: { user_skill_id: "us-9", nested: { score: 95 } },
  }),
  auditEvent({ makerspace_id: MS, created_at: at(7), action: "request_created", user_id: "u-4", performed_by: "u-4" }),
  auditEvent({ makerspace_id: MS, created_at: at(8), action: "access_granted", user_id: "u-1", performed_by: "dev-1" }),
  auditEvent({ makerspace_id: OTHER, created_at: at(9), action: "skill_granted", user_id: "u-1", skill_id: "sk-x" }),
  auditEvent({ makerspace_id: OTHER, created_at: at(3), action: "skill_created", user_id: null, skill_id: "sk-x" }),
];
const ours = events.filter((e) => e.makerspace_id === MS);

/** Newest first, ties on created_at broken by id descending. */
function newestFirst(list: AuditEvent[]): string[] {
  return [...list]
    .sort((a, b) =>
      a.created_at === b.created_at ? b.id.localeCompare(a.id) : b.created_at.localeCompare(a.created_at),
    )
    .map((e) => e.id);
}

async function get(query: string, token?: string): Promise<{ status: number; body: Page; headers: Headers }> {
  return callJson<Page>("GET", `/api/v1/skills/audit-logs${query}`, { token: token ?? (await admin(MS)) });
}

beforeAll(async () => {
  const { result, ids } = await deliver(events);
  expect(result.explicitAcks).toEqual(ids);
});

describe("GET /skills/audit-logs", () => {
  it("lists the makerspace's events newest first with every field and metadata as an object", async () => {
    const res = await get("");
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.items.map((i) => i.id)).toEqual(newestFirst(ours));
    const expired = ours[7] as AuditEvent;
    expect(res.body.items.find((i) => i.id === expired.id)).toEqual({
      id: expired.id,
      action: "skill_expired",
      user_id: "u-2",
      skill_id: "sk-a",
      makerspace_id: MS,
      performed_by: "system",
      reason: "Certification expired",
      metadata: { user_skill_id: "us-9", nested: { score: 95 } },
      created_at: at(6),
    });
  });

  it("pages with an opaque cursor until next_cursor is null, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items.map((i) => i.id as string));
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(4);
    expect(seen).toEqual(newestFirst(ours));
  });

  it("gives next_cursor null when the last page is exactly full", async () => {
    const first = await get("?limit=5");
    expect(first.body.items).toHaveLength(5);
    const second = await get(`?limit=5&cursor=${first.body.next_cursor}`);
    expect(second.body.items).toHaveLength(5);
    expect(second.body.next_cursor).toBeNull();
  });

  it.each([
    ["user_id=u-1", (e: AuditEvent) => e.user_id === "u-1"],
    ["skill_id=sk-b", (e: AuditEvent) => e.skill_id === "sk-b"],
    ["action=skill_granted", (e: AuditEvent) => e.action === "skill_granted"],
    ["performed_by=system", (e: AuditEvent) => e.performed_by === "system"],
    [`since=${at(5)}`, (e: AuditEvent) => e.created_at >= at(5)],
    [`until=${at(2)}`, (e: AuditEvent) => e.created_at <= at(2)],
    [`since=${at(2)}&until=${at(5)}`, (e: AuditEvent) => e.created_at >= at(2) && e.created_at <= at(5)],
    ["user_id=u-1&action=skill_granted", (e: AuditEvent) => e.user_id === "u-1" && e.action === "skill_granted"],
  ])("filters by %s", async (query, keep) => {
    const res = await get(`?${query}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i) => i.id)).toEqual(newestFirst(ours.filter(keep)));
  });

  it("accepts since/until with an offset, normalised to UTC", async () => {
    const res = await get(`?since=${encodeURIComponent("2026-01-15T11:05:00+01:00")}`);
    expect(res.body.items.map((i) => i.id)).toEqual(newestFirst(ours.filter((e) => e.created_at >= at(5))));
  });

  it("matches with a trailing slash", async () => {
    const res = await callJson<Page>("GET", "/api/v1/skills/audit-logs/?action=skill_revoked", {
      token: await admin(MS),
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((i) => i.action)).toEqual(["skill_revoked"]);
  });

  describe("tenancy", () => {
    it("a makerspace admin never sees another makerspace's events", async () => {
      const res = await get("?user_id=u-1", await admin(OTHER));
      expect(res.body.items.map((i) => i.id)).toEqual(
        newestFirst(events.filter((e) => e.makerspace_id === OTHER && e.user_id === "u-1")),
      );
    });

    it("a filter naming another makerspace is 403", async () => {
      expectError(await get(`?makerspace_id=${OTHER}`), 403, "forbidden");
    });

    it("a filter naming its own makerspace is allowed", async () => {
      const res = await get(`?makerspace_id=${MS}`);
      expect(res.body.items.map((i) => i.id)).toEqual(newestFirst(ours));
    });

    it("a super_admin sees every makerspace, or one with the filter", async () => {
      const root = await superAdmin();
      const all = await get("?user_id=u-1&limit=200", root);
      const expected = events.filter((e) => e.user_id === "u-1");
      expect(all.body.items.map((i) => i.id)).toEqual(expect.arrayContaining(newestFirst(expected)));
      const one = await get(`?makerspace_id=${OTHER}`, root);
      expect(one.body.items.map((i) => i.id)).toEqual(newestFirst(events.filter((e) => e.makerspace_id === OTHER)));
    });
  });

  describe("who may read it", () => {
    it("member → 403", async () => {
      expectError(await get("", await member("u-1", MS)), 403, "forbidden");
    });
    it("device → 403", async () => {
      expectError(await get("", await device("dev-1", MS)), 403, "forbidden");
    });
    it("no token → 401", async () => {
      expectUnauthorized(await callJson("GET", "/api/v1/skills/audit-logs"));
    });
  });

  describe("validation", () => {
    it.each([
      ["?limit=0", "limit"],
      ["?limit=201", "limit"],
      ["?limit=abc", "limit"],
      ["?action=skill_deleted", "action"],
      ["?since=yesterday", "since"],
      ["?until=2026-01-15", "until"],
      [`?since=${at(5)}&until=${at(2)}`, "until"],
      ["?cursor=not*base64", "cursor"],
      [`?cursor=${btoa("garbage").replace(/=+$/, "")}`, "cursor"],
    ])("%s → 422 naming %s", async (query, path) => {
      expectValidation(await get(query), [path]);
    });

    it("limit 200 is allowed", async () => {
      expect((await get("?limit=200")).status).toBe(200);
    });
  });
});
