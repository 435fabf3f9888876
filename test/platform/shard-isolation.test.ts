import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { userSkillsKey } from "../../src/certifications/cache";
import { eventually } from "../helpers/audit";
import { cachedSkillIds, grant, type UserSkillBody } from "../helpers/certifications";
import { registerBadge } from "../helpers/devices";
import { type EquipmentFixture, makeEquipment, makeSkill, type SkillFixture } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { shardOf } from "../helpers/shards";
import { admin, device, member } from "../helpers/tokens";

/**
 * Two makerspaces on different shards, each with the same member ids, skill names and card: every
 * answer, cache entry and audit trail stays its own.
 */
const A = "ms-1";
const B = "ms-2";
const USER = "user-twin";

interface Tenant {
  skill: SkillFixture;
  machine: EquipmentFixture;
}
const tenants: Record<string, Tenant> = {};

beforeAll(async () => {
  expect(await shardOf(A)).not.toBe(await shardOf(B));
  for (const ms of [A, B]) {
    const machine = await makeEquipment({ makerspace_id: ms });
    const skill = await makeSkill({ makerspace_id: ms, name: "Twin Laser Safety", equipment_ids: [machine.id] });
    tenants[ms] = { skill, machine };
  }
  // The twin user is certified in A only; both makerspaces know a card with the same UID.
  const granted = await grant({ user_id: USER, skill_id: (tenants[A] as Tenant).skill.id }, { token: await admin(A) });
  expect(granted.status).toBe(201);
  await registerBadge("04:AA:BB:CC:DD:EE:01", USER, A);
  await registerBadge("04:AA:BB:CC:DD:EE:01", USER, B);
});

const check = async (ms: string, consistency: string) =>
  callJson<{ can_access: boolean }>(
    "GET",
    `/api/v1/skills/access/equipment/${(tenants[ms] as Tenant).machine.id}?user_id=${USER}&consistency=${consistency}`,
    { token: await device(`door-twin-${ms}`, ms) },
  );

describe("two makerspaces on different shards", () => {
  it("same skill name in both: each makerspace has its own, listed only to its members", async () => {
    for (const ms of [A, B]) {
      const list = await callJson<{ id: string }[]>("GET", "/api/v1/skills/?q=twin", { token: await member(USER, ms) });
      expect(list.body.map((s) => s.id)).toEqual([(tenants[ms] as Tenant).skill.id]);
    }
  });

  it("the same user id is two members: certified in one, not in the other (cached and strong)", async () => {
    for (const consistency of ["cached", "strong", "cached"]) {
      expect((await check(A, consistency)).body.can_access).toBe(true);
      expect((await check(B, consistency)).body.can_access).toBe(false);
    }
    const verify = async (ms: string) =>
      callJson("POST", `/api/v1/skills/access/equipment/${(tenants[ms] as Tenant).machine.id}/verify`, {
        token: await device(`door-twin-${ms}`, ms),
        body: { badge_uid: "04AABBCCDDEE01" },
      });
    expect((await verify(A)).status).toBe(200);
    expect((await verify(B)).status).toBe(403);
  });

  it("each member's KV entry is its own (the key names the makerspace)", async () => {
    await check(A, "cached");
    await check(B, "cached");
    expect(await cachedSkillIds(USER, A)).toEqual([(tenants[A] as Tenant).skill.id]);
    expect(await env.USER_SKILLS_CACHE.get(userSkillsKey(A, USER))).not.toBe(
      await env.USER_SKILLS_CACHE.get(userSkillsKey(B, USER)),
    );
    // A change in B rewrites B's entry only.
    const grantB = await grant({ user_id: USER, skill_id: (tenants[B] as Tenant).skill.id }, { token: await admin(B) });
    expect(grantB.status).toBe(201);
    expect(await cachedSkillIds(USER, B)).toEqual([(tenants[B] as Tenant).skill.id]);
    expect(await cachedSkillIds(USER, A)).toEqual([(tenants[A] as Tenant).skill.id]);
    expect((await check(B, "cached")).body.can_access).toBe(true);
  });

  it("certifications, requests and audit trails are read per makerspace", async () => {
    const mine = await callJson<UserSkillBody[]>("GET", "/api/v1/skills/user-skills", { token: await member(USER, A) });
    expect(mine.body.map((r) => r.makerspace_id)).toEqual([A]);
    // The queue consumer writes each event on its makerspace's shard, a few seconds after its change.
    for (const ms of [A, B]) {
      const items = await eventually(async () => {
        const page = await callJson<{ items: { makerspace_id: string; action: string }[] }>(
          "GET",
          `/api/v1/skills/audit-logs?user_id=${USER}&action=badge_registered`,
          { token: await admin(ms) },
        );
        return page.body.items.length > 0 ? page.body.items : null;
      });
      expect(items.map((e) => e.makerspace_id)).toEqual([ms]);
    }
  });

  it("an id of one makerspace asked for by the other is 404, whichever shard holds it", async () => {
    const other = (tenants[B] as Tenant).skill.id;
    expect((await callJson("GET", `/api/v1/skills/${other}`, { token: await member(USER, A) })).status).toBe(404);
    const machine = (tenants[B] as Tenant).machine.id;
    expect((await callJson("GET", `/api/v1/equipment/${machine}`, { token: await member(USER, A) })).status).toBe(404);
  });
});
