import { beforeAll, describe, expect, it } from "vitest";
import { clearRequirementsCache } from "../../src/access/requirements-cache";
import { expectError } from "../helpers/assertions";
import { type EquipmentFixture, makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { faultyEnv, TRANSIENT_D1_ERRORS } from "../helpers/faulty-d1";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

const MS = "ms-transient";
const check = (id: string, user: string) => `/api/v1/skills/access/equipment/${id}?user_id=${user}&consistency=strong`;

let laser: EquipmentFixture;

beforeAll(async () => {
  laser = await makeEquipment({ makerspace_id: MS, name: "Transient Laser" });
  const skill = await makeSkill({ makerspace_id: MS, equipment_ids: [laser.id] });
  await seedCertification({ user_id: "holder", skill_id: skill.id, makerspace_id: MS });
});

describe.each(TRANSIENT_D1_ERRORS)("D1 answering %j", (message) => {
  it("an access check retried through two failures answers as if nothing happened", async () => {
    const { env, log } = faultyEnv({ failures: 2, message });
    const res = await callJson<{ can_access: boolean }>("GET", check(laser.id, "holder"), {
      token: await admin(MS),
      env,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.can_access).toBe(true);
    expect(log.injected).toBe(2);
    expect(log.calls).toBe(3);
  });

  it("three failures spend the budget: 503 unavailable with Retry-After, in under a second", async () => {
    const { env, log } = faultyEnv({ failures: Number.POSITIVE_INFINITY, message });
    const started = Date.now();
    const res = await callJson("GET", check(laser.id, "holder"), { token: await admin(MS), env });
    expectError(res, 503, "unavailable");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(log.calls).toBe(3);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("which calls are retried", () => {
  const message = TRANSIENT_D1_ERRORS[0];

  it("verify's read (a door waiting) is retried", async () => {
    const { env, log } = faultyEnv({ failures: 2, message, only: "reads" });
    const res = await callJson("POST", `/api/v1/skills/access/equipment/${laser.id}/verify`, {
      token: await admin(MS),
      body: { user_id: "holder" },
      env,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(log.injected).toBe(2);
  });

  it("a cached check's cold reads (a batch of reads) are retried", async () => {
    clearRequirementsCache();
    const { env, log } = faultyEnv({ failures: 1, message });
    const res = await callJson<{ can_access: boolean }>(
      "GET",
      `/api/v1/skills/access/equipment/${laser.id}?user_id=cold-${crypto.randomUUID()}`,
      { token: await admin(MS), env },
    );
    expect(res.status).toBe(200);
    expect(res.body.can_access).toBe(false);
    expect(log.injected).toBe(1);
  });

  it.each([
    ["an allow-list", () => `/api/v1/skills/access/equipment/${laser.id}/allowlist`],
    ["a listing", () => `/api/v1/skills/?makerspace_id=${MS}`],
    ["the audit log", () => "/api/v1/skills/audit-logs"],
  ])("%s is retried", async (_label, path) => {
    const { env, log } = faultyEnv({ failures: 2, message });
    const res = await callJson("GET", path(), { token: await admin(MS), env });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(log.injected).toBe(2);
  });

  it("a write is never retried blindly: one attempt, 500, nothing written", async () => {
    const { env, log } = faultyEnv({ failures: 1, message, only: "writes" });
    const name = `Never Retried ${crypto.randomUUID().slice(0, 8)}`;
    const res = await callJson("POST", "/api/v1/skills/", {
      token: await admin(MS),
      body: { name, category: "Safety", level: "beginner", makerspace_id: MS },
      env,
    });
    expectError(res, 500, "internal_error", { request_id: expect.any(String) });
    expect(log.writes).toBe(1);
    const after = await callJson<{ name: string }[]>("GET", `/api/v1/skills/?makerspace_id=${MS}&q=${name}`, {
      token: await admin(MS),
    });
    expect(after.body).toEqual([]);
  });

  it("an error that is not transient is not retried (500 at once)", async () => {
    const { env, log } = faultyEnv({ failures: 1, message: "D1_ERROR: no such column: nope" });
    const res = await callJson("GET", check(laser.id, "holder"), { token: await admin(MS), env });
    expectError(res, 500, "internal_error", { request_id: expect.any(String) });
    expect(log.calls).toBe(1);
  });
});
