import { describe, expect, it } from "vitest";
import { expectError } from "../helpers/assertions";
import { createRequest, uniqueUser } from "../helpers/certifications";
import { countingEnv } from "../helpers/counting-d1";
import { registerDevice } from "../helpers/devices";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin, member, superAdmin } from "../helpers/tokens";

interface OverviewBody {
  makerspace_id: string;
  counts: Record<string, number>;
  latest_activity: { action: string; user_id: string | null; created_at: string }[];
}

const DAY = 86_400_000;
const inDays = (d: number) => new Date(Date.now() + d * DAY).toISOString();
const overview = async (ms: string, token?: string, env?: Env) =>
  callJson<OverviewBody>("GET", `/api/v1/makerspaces/${ms}/overview`, { token: token ?? (await admin(ms)), env });

describe("GET /makerspaces/{makerspace_id}/overview", () => {
  it("counts members, certifications in force and expiring, requests, equipment by status and offline devices", async () => {
    const ms = `ms-ov-${crypto.randomUUID().slice(0, 8)}`;
    const skill = await makeSkill({ makerspace_id: ms });
    const [a, b, c, d] = [uniqueUser("a"), uniqueUser("b"), uniqueUser("c"), uniqueUser("d")];
    await seedCertification({ user_id: a, skill_id: skill.id, makerspace_id: ms, expires_at: inDays(100) });
    await seedCertification({ user_id: b, skill_id: skill.id, makerspace_id: ms, expires_at: inDays(30) });
    await seedCertification({ user_id: c, skill_id: skill.id, makerspace_id: ms, expires_at: inDays(-1) });
    await seedCertification({ user_id: d, skill_id: skill.id, makerspace_id: ms, expires_at: null });
    const req = await createRequest({ skill_id: skill.id, user_id: uniqueUser("e") }, { token: await admin(ms) });
    expect(req.status).toBe(201);
    await makeEquipment({ makerspace_id: ms });
    await makeEquipment({ makerspace_id: ms, status: "maintenance" });
    await makeEquipment({ makerspace_id: ms, status: "maintenance" });
    await makeEquipment({ makerspace_id: ms, status: "retired" });
    await registerDevice({ name: "Door", kind: "door", makerspace_id: ms });

    const { env: counted, counter } = countingEnv();
    const res = await overview(ms, undefined, counted);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.makerspace_id).toBe(ms);
    expect(res.body.counts).toEqual({
      members: 5,
      certifications_in_force: 3,
      expiring_30d: 1,
      pending_requests: 1,
      equipment_available: 1,
      equipment_maintenance: 2,
      equipment_retired: 1,
      devices_offline: 1,
    });
    // The directory, then one batch.
    expect(counter.roundTrips).toBeLessThanOrEqual(3);
  });

  it("lists the latest audit events of the makerspace, newest first, at most 10", async () => {
    const ms = `ms-ov-${crypto.randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 12; i++) await makeSkill({ makerspace_id: ms });
    let res = await overview(ms);
    for (let tries = 0; tries < 50 && res.body.latest_activity.length < 10; tries++) {
      await new Promise((r) => setTimeout(r, 200));
      res = await overview(ms);
    }
    expect(res.body.latest_activity).toHaveLength(10);
    expect(res.body.latest_activity.every((e) => e.action === "skill_created")).toBe(true);
    const times = res.body.latest_activity.map((e) => e.created_at);
    expect(times).toEqual([...times].sort().reverse());
  });

  it("is for admins of the makerspace (another's 403, a member 403); a super_admin reads any", async () => {
    expectError(await overview("ms-2", await admin("ms-1")), 403, "forbidden");
    expectError(await overview("ms-1", await member("user-1", "ms-1")), 403, "forbidden");
    expect((await overview("ms-1", await superAdmin())).status).toBe(200);
    expectError(await overview("x".repeat(101), await admin()), 422, "validation_error", {
      errors: [expect.objectContaining({ path: "makerspace_id" })],
    });
  });
});
