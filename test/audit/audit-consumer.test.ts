import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { retryDelaySeconds } from "../../src/audit/consumer";
import { auditEvent, auditRowCount, deliver, failingBatchEnv, insertOutbox, outboxRow } from "../helpers/audit";
import { captureLogs } from "../helpers/logs";
import { shardDb } from "../helpers/shards";

describe("audit queue consumer", () => {
  it("writes the row with every field, acks the message and clears the outbox entry", async () => {
    const event = auditEvent({
      action: "skill_revoked",
      reason: "Unsafe use",
      metadata: { quiz_score: "95%", equipment_authorized: ["eq-1"] },
    });
    await insertOutbox(event);
    const { result, ids } = await deliver([event]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    const row = await (await shardDb(event.makerspace_id))
      .prepare("select * from skill_audit_logs where id = ?")
      .bind(event.id)
      .first();
    expect(row).toEqual({
      id: event.id,
      action: "skill_revoked",
      user_id: event.user_id,
      skill_id: event.skill_id,
      makerspace_id: event.makerspace_id,
      performed_by: event.performed_by,
      reason: "Unsafe use",
      metadata: JSON.stringify(event.metadata),
      created_at: event.created_at,
    });
    expect(await outboxRow(event.id)).toBeNull();
  });

  it("writes a duplicate delivery once (redelivered later, and twice in one batch)", async () => {
    const event = auditEvent();
    const first = await deliver([event]);
    const again = await deliver([event, event]);
    expect(first.result.explicitAcks).toEqual(first.ids);
    expect(again.result.explicitAcks).toEqual(again.ids);
    expect(await auditRowCount(event.id)).toBe(1);
  });

  it("a redelivery does not overwrite the row first written", async () => {
    const event = auditEvent({ reason: "original" });
    await deliver([event]);
    await deliver([{ ...event, reason: "tampered" }]);
    const row = await (await shardDb(event.makerspace_id))
      .prepare("select reason from skill_audit_logs where id = ?")
      .bind(event.id)
      .first();
    expect(row).toEqual({ reason: "original" });
  });

  it("acks a malformed message without retrying it and still writes the valid ones", async () => {
    const logs = captureLogs();
    const good1 = auditEvent();
    const good2 = auditEvent();
    const bodies = [
      good1,
      "not an event",
      { ...auditEvent(), action: "skill_deleted" },
      { ...auditEvent(), makerspace_id: undefined },
      null,
      good2,
    ];
    const { result, ids } = await deliver(bodies);
    expect([...result.explicitAcks].sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);
    expect(result.retryBatch.retry).toBe(false);
    expect(await auditRowCount(good1.id)).toBe(1);
    expect(await auditRowCount(good2.id)).toBe(1);
    expect(logs.messages()).toEqual(Array(4).fill("malformed audit message dropped"));
    expect(logs.lines.map((l) => l.message_id)).toEqual(ids.slice(1, 5));
  });

  it("retries a batch whose D1 write fails, acks none of it, and keeps the outbox entry", async () => {
    const logs = captureLogs();
    const events = [auditEvent(), auditEvent()];
    for (const e of events) await insertOutbox(e);
    const { result, ids, retryDelays } = await deliver([...events, "malformed"], {
      env: failingBatchEnv(),
      attempts: 3,
    });
    // Only the malformed message is acked; the valid ones come back after a backoff.
    expect(result.explicitAcks).toEqual([ids[2]]);
    expect(result.ackAll).toBe(false);
    expect(result.retryMessages).toEqual([{ msgId: ids[0] }, { msgId: ids[1] }]);
    expect(retryDelays).toEqual({ [ids[0] as string]: 40, [ids[1] as string]: 40 });
    for (const e of events) {
      expect(await auditRowCount(e.id)).toBe(0);
      expect(await outboxRow(e.id)).not.toBeNull();
    }
    expect(logs.messages()).toEqual(["malformed audit message dropped", "audit events not written; retrying them"]);
    expect(logs.lines[1]).toMatchObject({ level: "error", messages: 2, max_attempts: 3 });
    // Once D1 is back, the redelivery writes them.
    const retried = await deliver(events, { attempts: 4 });
    expect(retried.result.explicitAcks).toEqual(retried.ids);
    for (const e of events) {
      expect(await auditRowCount(e.id)).toBe(1);
      expect(await outboxRow(e.id)).toBeNull();
    }
  });

  it("backs off exponentially with the attempt count, capped at 5 minutes", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });

  it("fails the whole batch (redelivered by Queues) when the configuration is invalid", async () => {
    const logs = captureLogs();
    const badEnv = { ...env, SKILL_AUDIT_RETENTION_DAYS: "forever" } as Env;
    const event = auditEvent();
    await expect(deliver([event], { env: badEnv })).rejects.toThrow();
    expect(await auditRowCount(event.id)).toBe(0);
    const [line] = logs.lines;
    expect(line).toMatchObject({ level: "error", msg: "invalid configuration" });
    expect(line?.variables).toEqual([expect.stringMatching(/^SKILL_AUDIT_RETENTION_DAYS: /)]);
    expect(JSON.stringify(line)).not.toContain("forever");
  });
});
