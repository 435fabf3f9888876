import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { userSkillsKey } from "../../src/certifications/cache";
import { DAILY_CRON, HOURLY_CRON } from "../../src/cron/scheduled";
import { runCron } from "../helpers/audit";
import { grant, type UserSkillBody, uniqueUser } from "../helpers/certifications";
import {
  type EquipmentFixture,
  makeEquipment,
  makeSkill,
  type SkillFixture,
  seedCertification,
} from "../helpers/factories";
import { callJson } from "../helpers/http";
import { KV_WRITE_INTERVAL_MS, kvWriteLog } from "../helpers/rate-limited-kv";
import { shardDb } from "../helpers/shards";
import { admin } from "../helpers/tokens";

/**
 * Every test here runs under production's KV limit of one write per second per key (the wrapper
 * installed by test/setup/platform-limits.ts): a change must still be seen at once by a cached
 * check at this location, without KV ever refusing one of the Worker's writes.
 */
const MS = "ms-kv-rate";
let skills: SkillFixture[];
let laser: EquipmentFixture;

beforeAll(async () => {
  laser = await makeEquipment({ makerspace_id: MS, name: "KV Laser" });
  skills = [];
  for (let i = 0; i < 4; i++) skills.push(await makeSkill({ makerspace_id: MS, equipment_ids: [laser.id] }));
});

const log = () => {
  const l = kvWriteLog(env.USER_SKILLS_CACHE);
  if (!l) throw new Error("the KV write limit is not installed");
  return { accepted: l.accepted, refused: l.refused, refusedKeys: [...l.refusedKeys] };
};

async function cachedCheck(user: string, equipmentId = laser.id) {
  const res = await callJson<{ can_access: boolean; missing_skills: string[] }>(
    "GET",
    `/api/v1/skills/access/equipment/${equipmentId}?user_id=${user}&consistency=cached`,
    { token: await admin(MS) },
  );
  expect(res.status).toBe(200);
  return res.body;
}

async function grantAll(user: string, of: SkillFixture[]) {
  const results = await Promise.all(
    of.map(async (s) => grant({ user_id: user, skill_id: s.id }, { token: await admin(MS) })),
  );
  for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(201);
  return results.map((r) => r.body as UserSkillBody);
}

const revoke = async (id: string) =>
  callJson("POST", `/api/v1/skills/user-skills/${id}/revoke`, { token: await admin(MS), body: { reason: "kv" } });

describe("user-skills cache under KV's one write per second per key", () => {
  it("grant then revoke within a second: the cached check right after the revoke denies", async () => {
    const user = uniqueUser("grant-revoke");
    const before = log();
    const granted = await grantAll(user, skills);
    expect((await cachedCheck(user)).can_access).toBe(true);
    const started = Date.now();
    expect((await revoke((granted[0] as UserSkillBody).id)).status).toBe(200);
    // The revoke's write waited for the key's second instead of being refused.
    expect(Date.now() - started).toBeGreaterThan(KV_WRITE_INTERVAL_MS / 2);
    expect(await cachedCheck(user)).toMatchObject({ can_access: false, missing_skills: [skills[0]?.name] });
    expect(log().refusedKeys.slice(before.refusedKeys.length)).not.toContain(userSkillsKey(MS, user));
  });

  it("a reader's fill then a change: the cached check after the change sees it", async () => {
    const user = uniqueUser("fill-change");
    const before = log();
    expect((await cachedCheck(user)).can_access).toBe(false); // miss: read from D1, filled into KV
    await grantAll(user, skills);
    expect((await cachedCheck(user)).can_access).toBe(true);
    expect(log().refused).toBe(before.refused);
  });

  it("concurrent changes of one user share writes and are all seen", async () => {
    const user = uniqueUser("burst");
    const before = log();
    await grantAll(user, skills);
    const after = log();
    expect(after.refused).toBe(before.refused);
    // Four changes in a second: the first write goes at once, the other three share the next.
    expect(after.accepted - before.accepted).toBeLessThanOrEqual(2);
    expect((await cachedCheck(user)).can_access).toBe(true);
  });

  it("a write made elsewhere within the second (KV refuses ours) is retried, and the change is seen", async () => {
    const user = uniqueUser("elsewhere");
    // Another isolate wrote this user's entry a moment ago: a stale copy without certifications.
    await env.USER_SKILLS_CACHE.put(userSkillsKey(MS, user), JSON.stringify({ v: 1, certifications: [] }), {
      expirationTtl: 300,
    });
    const before = log();
    await grantAll(user, skills);
    const after = log();
    expect(after.refusedKeys.slice(before.refusedKeys.length)).toContain(userSkillsKey(MS, user));
    expect((await cachedCheck(user)).can_access).toBe(true);
  });

  it("many concurrent cold cached checks of one user fill the entry once", async () => {
    const user = uniqueUser("crowd");
    await seedCertification({ user_id: user, skill_id: (skills[0] as SkillFixture).id, makerspace_id: MS });
    const before = log();
    const answers = await Promise.all(Array.from({ length: 6 }, () => cachedCheck(user)));
    expect(answers.every((a) => a.can_access === false)).toBe(true);
    const after = log();
    expect(after.refused).toBe(before.refused);
    expect(after.accepted - before.accepted).toBe(1);
  });

  it("the expiry cron right after a change neither fails nor lets the expired certification in", async () => {
    const user = uniqueUser("expiring");
    const [row] = await grantAll(user, [skills[0] as SkillFixture]);
    await (await shardDb(MS))
      .prepare("update user_skills set expires_at = ? where id = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), (row as UserSkillBody).id)
      .run();
    await runCron(HOURLY_CRON, new Date());
    await runCron(DAILY_CRON, new Date());
    const status = await (await shardDb(MS))
      .prepare("select status from user_skills where id = ?")
      .bind((row as UserSkillBody).id)
      .first<{ status: string }>();
    expect(status?.status).toBe("expired");
    expect((await cachedCheck(user)).can_access).toBe(false);
  });
});
