import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearDeviceCache } from "../../src/cache/devices";
import { clearRequirementsCache } from "../../src/cache/equipment-requirements";
import { countingEnv } from "../helpers/counting-d1";
import { randomUid, registerBadge, registerDevice } from "../helpers/devices";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

/**
 * The D1 round-trip budget of the controller paths, counted at the D1 binding by a wrapper around
 * the real local database: a registered device's token check is free once warm, and allow-lists
 * cost one round trip whatever the number of members.
 */
describe("D1 round-trip budget: devices, badges, allow-lists", () => {
  let equipmentId: string;
  let skillIds: string[];
  let deviceId: string;
  let deviceToken: string;
  const holderUid = randomUid();

  beforeAll(async () => {
    const skills = await Promise.all([makeSkill(), makeSkill()]);
    skillIds = skills.map((s) => s.id);
    const eq = await makeEquipment();
    equipmentId = eq.id;
    for (const s of skills) {
      await callJson("PUT", `/api/v1/skills/${s.id}`, {
        token: await admin(),
        body: { equipment_ids: [eq.id] },
      });
      await seedCertification({ user_id: "budget-holder", skill_id: s.id });
    }
    await registerBadge(holderUid, "budget-holder");
    const d = await registerDevice({ equipment_ids: [eq.id] });
    deviceId = d.device.id;
    deviceToken = d.token;
  });

  beforeEach(() => {
    clearRequirementsCache();
    clearDeviceCache();
  });

  const check = `/api/v1/skills/access/equipment`;

  it("registered device, cached check, warm caches: 0 round trips (the token check is cached too)", async () => {
    const path = `${check}/${equipmentId}?user_id=budget-holder&consistency=cached`;
    const warm = await callJson("GET", path, { token: deviceToken });
    expect(warm.status).toBe(200);
    const { env, counter } = countingEnv();
    const res = await callJson("GET", path, { token: deviceToken, env });
    expect(res.body).toMatchObject({ can_access: true });
    expect(counter.roundTrips).toBe(0);
  });

  it("registered device, cold token cache: one extra round trip, once", async () => {
    const path = `${check}/${equipmentId}?user_id=budget-holder&consistency=strong`;
    const cold = countingEnv();
    await callJson("GET", path, { token: deviceToken, env: cold.env });
    expect(cold.counter.roundTrips).toBe(2);
    const warm = countingEnv();
    await callJson("GET", path, { token: deviceToken, env: warm.env });
    expect(warm.counter.roundTrips).toBe(1);
  });

  it("verify by badge: one round trip (badge, requirements and certifications in one batch)", async () => {
    await callJson("GET", `${check}/${equipmentId}?user_id=x`, { token: deviceToken });
    for (const badge_uid of [holderUid, randomUid()]) {
      const { env, counter } = countingEnv();
      const res = await callJson("POST", `${check}/${equipmentId}/verify`, {
        token: deviceToken,
        body: { badge_uid },
        env,
      });
      expect([200, 403]).toContain(res.status);
      expect(counter.roundTrips).toBe(1);
      expect(counter.batches).toBe(1);
    }
  });

  it("allow-list: one round trip whatever the number of members", async () => {
    await callJson("GET", `${check}/${equipmentId}?user_id=x`, { token: deviceToken });
    const counts: number[] = [];
    for (const extraMembers of [0, 150]) {
      for (let i = 0; i < extraMembers; i++) {
        const user = `budget-member-${i}`;
        for (const skillId of skillIds) await seedCertification({ user_id: user, skill_id: skillId });
        if (i % 3 === 0) await registerBadge(randomUid(), user);
      }
      const { env, counter } = countingEnv();
      const res = await callJson<{ allowlist: { entries: unknown[] } }>("GET", `${check}/${equipmentId}/allowlist`, {
        token: deviceToken,
        env,
      });
      expect(res.status).toBe(200);
      expect(res.body.allowlist.entries.length).toBe(1 + extraMembers);
      counts.push(counter.roundTrips);
    }
    expect(counts).toEqual([1, 1]);
  });

  it("heartbeat: one round trip (the write and the versions in one batch)", async () => {
    await callJson("GET", `${check}/${equipmentId}?user_id=x`, { token: deviceToken });
    const { env, counter } = countingEnv();
    const res = await callJson("POST", `/api/v1/devices/${deviceId}/heartbeat`, { token: deviceToken, env });
    expect(res.status).toBe(200);
    expect(counter.roundTrips).toBe(1);
  });
});
