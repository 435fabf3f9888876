import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearRequirementsCache } from "../../src/access/requirements-cache";
import { userSkillsKey } from "../../src/certifications/cache";
import { certificationMemo } from "../../src/certifications/cache-memo";
import { clearKvPacing } from "../../src/platform/kv-pacing";
import { countingEnv } from "../helpers/counting-d1";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { coldKvKey } from "../helpers/rate-limited-kv";
import { admin, device } from "../helpers/tokens";

/**
 * The round-trip budget of the access hot path, counted at the D1 binding by a wrapper around
 * the real local database.
 */
describe("D1 round-trip budget", () => {
  const user = "budget-user";
  let equipmentId: string;
  let deviceToken: string;

  beforeAll(async () => {
    const skills = await Promise.all([makeSkill(), makeSkill(), makeSkill()]);
    const eq = await makeEquipment();
    equipmentId = eq.id;
    // Twenty more items so the bulk calls prove they do not grow with the number of equipment.
    const many = await Promise.all(Array.from({ length: 20 }, () => makeEquipment()));
    for (const s of skills) {
      await callJson("PUT", `/api/v1/skills/${s.id}`, {
        token: await admin(),
        body: { equipment_ids: [eq.id, ...many.map((m) => m.id)] },
      });
      await seedCertification({ user_id: user, skill_id: s.id });
    }
    deviceToken = await device();
    // A controller's first call reads its device row; this file counts the access path after it
    // (the token check's own budget is in device-budget.test.ts).
    expect((await callJson("GET", "/api/v1/equipment", { token: deviceToken })).status).toBe(200);
  });

  beforeEach(async () => {
    clearRequirementsCache();
    clearKvPacing();
    await coldKvKey(env.USER_SKILLS_CACHE, userSkillsKey("ms-1", user));
    certificationMemo(env.USER_SKILLS_CACHE).clear();
  });

  const single = (consistency: string) =>
    `/api/v1/skills/access/equipment/${equipmentId}?user_id=${user}&consistency=${consistency}`;

  it("cached single check with warm caches: 0 D1 round trips", async () => {
    const warm = countingEnv();
    const first = await callJson("GET", single("cached"), { token: deviceToken, env: warm.env });
    expect(first.body).toMatchObject({ can_access: true });
    const { env: counted, counter } = countingEnv();
    const res = await callJson("GET", single("cached"), { token: deviceToken, env: counted });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ can_access: true });
    expect(counter.roundTrips).toBe(0);
  });

  it("cold cached single check: at most 2 round trips (here 1 batch)", async () => {
    const { env: counted, counter } = countingEnv();
    const res = await callJson("GET", single("cached"), { token: deviceToken, env: counted });
    expect(res.status).toBe(200);
    expect(counter.roundTrips).toBeLessThanOrEqual(2);
    expect(counter.roundTrips).toBe(1);
  });

  it("cached check with only the KV entry cold (and no copy in this isolate): 1 round trip", async () => {
    await callJson("GET", single("cached"), { token: deviceToken });
    await coldKvKey(env.USER_SKILLS_CACHE, userSkillsKey("ms-1", user));
    certificationMemo(env.USER_SKILLS_CACHE).clear();
    const { env: counted, counter } = countingEnv();
    await callJson("GET", single("cached"), { token: deviceToken, env: counted });
    expect(counter.roundTrips).toBe(1);
  });

  it("strong single check: exactly 1 round trip, even with warm caches", async () => {
    await callJson("GET", single("cached"), { token: deviceToken });
    const { env: counted, counter } = countingEnv();
    const res = await callJson("GET", single("strong"), { token: deviceToken, env: counted });
    expect(res.status).toBe(200);
    expect(counter.roundTrips).toBe(1);
  });

  it("verify: exactly 1 round trip on the response path", async () => {
    const { env: counted, counter } = countingEnv();
    const res = await callJson("POST", `/api/v1/skills/access/equipment/${equipmentId}/verify`, {
      token: deviceToken,
      body: { user_id: user },
      env: counted,
    });
    expect(res.status).toBe(200);
    // The audit event goes to the queue (waitUntil), not to D1.
    expect(counter.roundTrips).toBe(1);
  });

  it("bulk check: at most 2 round trips whatever the number of equipment", async () => {
    for (const consistency of ["cached", "strong", "cached"]) {
      const { env: counted, counter } = countingEnv();
      const res = await callJson<{ summary: { total_equipment: number } }>(
        "GET",
        `/api/v1/skills/access/equipment?user_id=${user}&consistency=${consistency}`,
        { token: deviceToken, env: counted },
      );
      expect(res.status).toBe(200);
      expect(res.body.summary.total_equipment).toBeGreaterThanOrEqual(21);
      expect(counter.roundTrips).toBeLessThanOrEqual(2);
    }
  });

  it("warm cached bulk check: 0 round trips (requirements cached per isolate, certifications in KV)", async () => {
    const path = `/api/v1/skills/access/equipment?user_id=${user}`;
    await callJson("GET", path, { token: deviceToken });
    const { env: counted, counter } = countingEnv();
    const res = await callJson<{ summary: { total_equipment: number } }>("GET", path, {
      token: deviceToken,
      env: counted,
    });
    expect(res.status).toBe(200);
    expect(res.body.summary.total_equipment).toBeGreaterThanOrEqual(21);
    expect(counter.roundTrips).toBe(0);
  });

  it("requirements listing: 1 round trip whatever the number of equipment", async () => {
    const { env: counted, counter } = countingEnv();
    const res = await callJson<unknown[]>("GET", "/api/v1/skills/equipment-requirements", {
      token: deviceToken,
      env: counted,
    });
    expect(res.status).toBe(200);
    expect(res.body.length).toBeGreaterThanOrEqual(21);
    expect(counter.roundTrips).toBe(1);
  });
});
