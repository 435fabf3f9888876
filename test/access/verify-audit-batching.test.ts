import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { queueSpy } from "../helpers/audit";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { captureLogs } from "../helpers/logs";
import { shardDb } from "../helpers/shards";
import { device } from "../helpers/tokens";

/**
 * verify's events (no state change) are buffered per isolate for a few milliseconds and sent
 * together; a refused send falls back to writing them straight into the audit table.
 */
describe("verify audit events", () => {
  let equipmentId: string;

  beforeAll(async () => {
    const eq = await makeEquipment();
    const skill = await makeSkill({ equipment_ids: [eq.id] });
    await seedCertification({ user_id: "batch-ok", skill_id: skill.id });
    equipmentId = eq.id;
  });

  /** Fires verifies concurrently, each with its own execution context, and waits for all. */
  async function verifyMany(users: string[], runEnv: Env, performer: string) {
    const token = await device(performer);
    const contexts = users.map(() => createExecutionContext());
    const responses = await Promise.all(
      users.map((user, i) =>
        worker.fetch(
          new Request(`http://localhost/api/v1/skills/access/equipment/${equipmentId}/verify`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ user_id: user }),
          }),
          runEnv,
          contexts[i] as ExecutionContext,
        ),
      ),
    );
    await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    return responses.map((r) => r.status);
  }

  it("sends concurrent verifies' events in one queue batch, one event per verify", async () => {
    const spy = queueSpy();
    let calls = 0;
    const counting = {
      ...spy.env,
      AUDIT_QUEUE: {
        send: spy.env.AUDIT_QUEUE.send.bind(spy.env.AUDIT_QUEUE),
        sendBatch: (...args: Parameters<Queue["sendBatch"]>) => {
          calls += 1;
          return spy.env.AUDIT_QUEUE.sendBatch(...args);
        },
      } as unknown as Queue,
    } as Env;
    const users = ["batch-ok", "batch-ok", "batch-no-1", "batch-no-2", "batch-ok", "batch-no-3"];
    const statuses = await verifyMany(users, counting, "door-batch");
    expect(statuses).toEqual([200, 200, 403, 403, 200, 403]);
    expect(calls).toBe(1);
    expect(spy.sent.map((e) => e.user_id).sort()).toEqual([...users].sort());
    expect(spy.sent.filter((e) => e.action === "access_granted")).toHaveLength(3);
    expect(new Set(spy.sent.map((e) => e.id)).size).toBe(users.length);
  });

  it("sends a full window (100 events) at once and opens a new one for the rest", async () => {
    const spy = queueSpy();
    const sizes: number[] = [];
    const counting = {
      ...spy.env,
      AUDIT_QUEUE: {
        send: spy.env.AUDIT_QUEUE.send.bind(spy.env.AUDIT_QUEUE),
        sendBatch: (messages: Iterable<MessageSendRequest<unknown>>, options?: QueueSendBatchOptions) => {
          const list = [...messages];
          sizes.push(list.length);
          return spy.env.AUDIT_QUEUE.sendBatch(list as MessageSendRequest<never>[], options);
        },
      } as unknown as Queue,
    } as Env;
    const users = Array.from({ length: 120 }, (_, i) => `crowd-${i}`);
    await verifyMany(users, counting, "door-crowd");
    expect(sizes.sort((a, b) => b - a)).toEqual([100, 20]);
    expect(new Set(spy.sent.map((e) => e.user_id)).size).toBe(120);
  });

  it("writes the events straight to the audit table when the queue refuses them", async () => {
    const logs = captureLogs();
    const spy = queueSpy({ fail: true });
    const users = ["batch-ok", "fallback-no"];
    const statuses = await verifyMany(users, spy.env, "door-fallback");
    expect(statuses).toEqual([200, 403]);
    expect(spy.refused).toBeGreaterThan(0);
    const { results } = await (await shardDb("ms-1"))
      .prepare("select action, user_id from skill_audit_logs where performed_by = 'door-fallback' order by action")
      .all<{ action: string; user_id: string }>();
    expect(results).toEqual([
      { action: "access_denied", user_id: "fallback-no" },
      { action: "access_granted", user_id: "batch-ok" },
    ]);
    expect(logs.messages("warn").filter((m) => m !== "slow request")).toEqual(["audit send failed; writing directly"]);
  });
});
