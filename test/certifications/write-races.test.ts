import { describe, expect, it } from "vitest";
import { expectError } from "../helpers/assertions";
import { auditEvents, type DeviceBody, registerDevice } from "../helpers/devices";
import { makeSkill } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { envBeforeNextBatch } from "../helpers/interleave";
import { shardDb } from "../helpers/shards";
import { admin } from "../helpers/tokens";

const put = async (id: string, body: Record<string, unknown>, opts: { env?: Env } = {}) =>
  callJson<{ prerequisite_ids: string[] }>("PUT", `/api/v1/skills/${id}`, { token: await admin(), body, ...opts });

async function prerequisiteEdges(skillIds: string[]): Promise<string[]> {
  const rows = await (await shardDb("ms-1"))
    .prepare(
      `select skill_id, prerequisite_id from skill_prerequisites where skill_id in (select value from json_each(?))
     order by skill_id, prerequisite_id`,
    )
    .bind(JSON.stringify(skillIds))
    .all<{ skill_id: string; prerequisite_id: string }>();
  return rows.results.map((r) => `${r.skill_id}->${r.prerequisite_id}`);
}

describe("concurrent prerequisite updates never form a cycle", () => {
  it("A→B and B→A at once: one 200, one 422 prerequisite_cycle, no cycle stored", async () => {
    const a = await makeSkill();
    const b = await makeSkill();
    const [ra, rb] = await Promise.all([
      put(a.id, { prerequisite_ids: [b.id] }),
      put(b.id, { prerequisite_ids: [a.id] }),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([200, 422]);
    expectError(ra.status === 422 ? ra : rb, 422, "prerequisite_cycle");
    expect(await prerequisiteEdges([a.id, b.id])).toHaveLength(1);
  });

  it("an edge committed between the checks and the batch stops the whole update (nothing applied, no event)", async () => {
    const a = await makeSkill();
    const b = await makeSkill();
    const c = await makeSkill();
    const old = await makeSkill();
    expect((await put(a.id, { prerequisite_ids: [old.id], name: "Before The Race" })).status).toBe(200);
    // B→C exists; another writer adds C→A just before A's batch, so A→B would close A→B→C→A.
    expect((await put(b.id, { prerequisite_ids: [c.id] })).status).toBe(200);
    const racing = envBeforeNextBatch((db) =>
      db.prepare("insert into skill_prerequisites (skill_id, prerequisite_id) values (?, ?)").bind(c.id, a.id).run(),
    );
    const res = await put(a.id, { prerequisite_ids: [b.id], name: "After The Race" }, { env: racing });
    expectError(res, 422, "prerequisite_cycle");
    expect(await prerequisiteEdges([a.id])).toEqual([`${a.id}->${old.id}`]);
    const row = await (await shardDb("ms-1"))
      .prepare("select name from skills where id = ?")
      .bind(a.id)
      .first<{ name: string }>();
    expect(row?.name).toBe("Before The Race");
    const updates = await auditEvents(
      (e) => e.action === "skill_updated" && (e as { skill_id?: string }).skill_id === a.id,
    );
    expect(updates).toHaveLength(1);
  });

  it("an unrelated concurrent edge does not stop the update", async () => {
    const a = await makeSkill();
    const b = await makeSkill();
    const c = await makeSkill();
    const racing = envBeforeNextBatch((db) =>
      db.prepare("insert into skill_prerequisites (skill_id, prerequisite_id) values (?, ?)").bind(c.id, b.id).run(),
    );
    const res = await put(a.id, { prerequisite_ids: [b.id] }, { env: racing });
    expect(res.status).toBe(200);
    expect(res.body.prerequisite_ids).toEqual([b.id]);
  });
});

describe("concurrent token rotations of one device", () => {
  const requirements = "/api/v1/skills/equipment-requirements";
  const rotate = async (id: string, opts: { env?: Env } = {}) =>
    callJson<{ device: DeviceBody; token: string }>("POST", `/api/v1/devices/${id}/rotate-token`, {
      token: await admin(),
      ...opts,
    });

  it("three at once: exactly one 200 whose token works, the others 409 invalid_state", async () => {
    const { device, token: first } = await registerDevice();
    const results = await Promise.all([rotate(device.id), rotate(device.id), rotate(device.id)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, "invalid_state");
    const winner = results.find((r) => r.status === 200);
    expect((await callJson("GET", requirements, { token: winner?.body.token })).status).toBe(200);
    expect((await callJson("GET", requirements, { token: first })).status).toBe(401);
    const events = await auditEvents((e) => e.action === "device_token_rotated" && e.metadata.device_id === device.id);
    expect(events).toHaveLength(1);
  });

  it("a rotation that committed between the read and the batch makes this one 409", async () => {
    const { device } = await registerDevice();
    const racing = envBeforeNextBatch((db) =>
      db.prepare("update devices set token_jti = ? where id = ?").bind(crypto.randomUUID(), device.id).run(),
    );
    expectError(await rotate(device.id, { env: racing }), 409, "invalid_state");
  });

  it("a rotation racing a revocation never stops the revocation", async () => {
    const { device } = await registerDevice();
    const [rotated, revoked] = await Promise.all([
      rotate(device.id),
      callJson<DeviceBody>("POST", `/api/v1/devices/${device.id}/revoke`, { token: await admin() }),
    ]);
    expect(revoked.status).toBe(200);
    expect([200, 409]).toContain(rotated.status);
    const row = await (await shardDb("ms-1"))
      .prepare("select status from devices where id = ?")
      .bind(device.id)
      .first<{ status: string }>();
    expect(row?.status).toBe("revoked");
    if (rotated.status === 200) {
      expect((await callJson("GET", requirements, { token: rotated.body.token })).status).toBe(401);
    }
  });
});
