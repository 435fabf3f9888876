import { env as testEnv } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearRequirementsCache } from "../../src/access/requirements-cache";
import { clearDeviceCache } from "../../src/devices/cache";
import { countingEnv } from "../helpers/counting-d1";
import { randomUid, registerBadge, registerDevice } from "../helpers/devices";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { shardDb } from "../helpers/shards";
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

  it("allow-list: built in two round trips whatever the number of members, then served from one", async () => {
    await callJson("GET", `${check}/${equipmentId}?user_id=x`, { token: deviceToken });
    const fetchList = async (headers: Record<string, string> = {}) => {
      const { env, counter } = countingEnv();
      const res = await callJson<{ allowlist: { entries: unknown[]; version: string } }>(
        "GET",
        `${check}/${equipmentId}/allowlist`,
        { token: deviceToken, env, headers },
      );
      return { res, roundTrips: counter.roundTrips };
    };
    for (const extraMembers of [0, 150]) {
      for (let i = 0; i < extraMembers; i++) {
        const user = `budget-member-${i}`;
        for (const skillId of skillIds) await seedCertification({ user_id: user, skill_id: skillId });
        // A badge of a certified member bumps the item's version, so the next fetch builds anew.
        if (i % 3 === 0) await registerBadge(randomUid(), user);
      }
      // A new version: the stored counter, then one batch of every read behind the list.
      const cold = await fetchList();
      expect(cold.res.status).toBe(200);
      expect(cold.res.body.allowlist.entries.length).toBe(1 + extraMembers);
      expect(cold.roundTrips).toBe(2);
      // The same version again: the counter only; the signed list comes from KV.
      const warm = await fetchList();
      expect(warm.res.body).toEqual(cold.res.body);
      expect(warm.roundTrips).toBe(1);
      const notModified = await fetchList({ "if-none-match": `"${cold.res.body.allowlist.version}"` });
      expect(notModified.res.status).toBe(304);
      expect(notModified.roundTrips).toBe(1);
    }
  });

  it("heartbeat: one round trip (the write and the versions in one batch)", async () => {
    await callJson("GET", `${check}/${equipmentId}?user_id=x`, { token: deviceToken });
    const { env, counter } = countingEnv();
    const res = await callJson("POST", `/api/v1/devices/${deviceId}/heartbeat`, { token: deviceToken, env });
    expect(res.status).toBe(200);
    expect(counter.roundTrips).toBe(1);
  });

  it("heartbeat: O(1) — one round trip and one read of stored versions, with 1 item or 300 and their members", async () => {
    const ms = "ms-hb-scale";
    const skill = await makeSkill({ makerspace_id: ms });
    // 300 items, all needing the skill, 200 certified members: what a heartbeat used to recompute.
    const db = await shardDb(ms);
    await db
      .prepare(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < 300)
       insert into equipment (id, name, makerspace_id, status, created_at, updated_at)
       select 'eq-hb-' || i, 'Machine ' || i, ?1, 'available', ?2, ?2 from n`,
      )
      .bind(ms, new Date().toISOString())
      .run();
    await testEnv.DIRECTORY.prepare(
      `with recursive n(i) as (select 1 union all select i + 1 from n where i < 300)
       insert into equipment_index (id, makerspace_id, created_at) select 'eq-hb-' || i, ?1, ?2 from n`,
    )
      .bind(ms, new Date().toISOString())
      .run();
    await db
      .prepare(
        "insert into skill_equipment (skill_id, equipment_id) select ?1, id from equipment where makerspace_id = ?2",
      )
      .bind(skill.id, ms)
      .run();
    await db
      .prepare(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < 200)
       insert into user_skills (id, user_id, skill_id, makerspace_id, status, expires_at, created_at, updated_at)
       select 'us-hb-' || i, 'hb-member-' || i, ?1, ?2, 'certified', '2999-01-01T00:00:00.000Z', ?3, ?3 from n`,
      )
      .bind(skill.id, ms, new Date().toISOString())
      .run();
    const one = await registerDevice({ makerspace_id: ms, equipment_ids: ["eq-hb-7"] });
    const all = await registerDevice({ makerspace_id: ms, kind: "kiosk" });
    const costs: { items: number; roundTrips: number; queries: number }[] = [];
    for (const d of [one, all]) {
      const path = `/api/v1/devices/${d.device.id}/heartbeat`;
      await callJson("POST", path, { token: d.token });
      const { env, counter } = countingEnv();
      const res = await callJson<{ allowlist_versions: Record<string, string> }>("POST", path, { token: d.token, env });
      expect(res.status).toBe(200);
      for (const v of Object.values(res.body.allowlist_versions)) expect(v).toBe("v0-01");
      costs.push({
        items: Object.keys(res.body.allowlist_versions).length,
        roundTrips: counter.roundTrips,
        queries: counter.queries,
      });
    }
    // The write of last_seen_at and one read of the stored counters, in one batch, whatever the size.
    expect(costs).toEqual([
      { items: 1, roundTrips: 1, queries: 2 },
      { items: 300, roundTrips: 1, queries: 2 },
    ]);
  });
});
