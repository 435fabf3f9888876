import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/events";
import { expectError } from "../helpers/assertions";
import { outboxRow, shardEvent } from "../helpers/audit";
import { callJson } from "../helpers/http";
import { shardDb } from "../helpers/shards";
import { admin, member, superAdmin } from "../helpers/tokens";

const base = "/api/v1/skills/audit-logs/dead-letters";
let event: AuditEvent;

beforeAll(async () => {
  // An event of ms-1 (its id tagged with ms-1's shard, where its dead letter is), and an unreadable
  // one naming no makerspace (untagged: SHARD_0's).
  event = await shardEvent({ makerspace_id: "ms-1", action: "skill_revoked" });
  const failedAt = new Date().toISOString();
  await (await shardDb("ms-1"))
    .prepare(
      "insert into audit_dead_letters (id, payload, makerspace_id, action, created_at, attempts, failed_at, reason) values (?, ?, ?, ?, ?, 10, ?, 'send failed')",
    )
    .bind(event.id, JSON.stringify(event), "ms-1", event.action, event.created_at, failedAt)
    .run();
  await env.SHARD_0.prepare(
    "insert into audit_dead_letters (id, payload, makerspace_id, action, created_at, attempts, failed_at, reason) values ('evt-garbled', 'x', null, null, ?, 1, ?, 'unreadable payload')",
  )
    .bind(failedAt, failedAt)
    .run();
});

describe("dead-letter routes (super_admin only)", () => {
  it("lists the dead letters with their events", async () => {
    const res = await callJson<{ items: Array<Record<string, unknown>>; next_cursor: string | null }>("GET", base, {
      token: await superAdmin(),
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((d) => d.id).sort()).toEqual([event.id, "evt-garbled"].sort());
    expect(res.body.items.find((d) => d.id === event.id)).toMatchObject({ event, reason: "send failed", attempts: 10 });
  });

  it.each([
    ["makerspace_admin", () => admin()],
    ["member", () => member()],
  ])("403 for a %s", async (_role, mint) => {
    expectError(await callJson("GET", base, { token: await mint() }), 403, "forbidden");
    expectError(await callJson("POST", `${base}/${event.id}/retry`, { token: await mint() }), 403, "forbidden");
  });

  it("retry puts the event back in the outbox; unknown → 404, unreadable → 409", async () => {
    const token = await superAdmin();
    const res = await callJson("POST", `${base}/${event.id}/retry`, { token });
    expect(res).toMatchObject({ status: 200, body: { id: event.id, requeued: true } });
    expect(await outboxRow(event.id)).not.toBeNull();
    expectError(await callJson("POST", `${base}/${event.id}/retry`, { token }), 404, "not_found");
    expectError(await callJson("POST", `${base}/evt-garbled/retry`, { token }), 409, "invalid_state");
  });

  it("422 for an unknown query parameter", async () => {
    expectError(await callJson("GET", `${base}?status=x`, { token: await superAdmin() }), 422, "validation_error", {
      errors: [{ path: "status", message: "is not a known field" }],
    });
  });
});
