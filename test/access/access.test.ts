import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearRequirementsCache } from "../../src/access/requirements-cache";
import { userSkillsKey } from "../../src/certifications/cache";
import { queueSpy } from "../helpers/audit";
import {
  type EquipmentFixture,
  makeEquipment,
  makeSkill,
  type SkillFixture,
  seedCertification,
} from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { countOnEveryShard, onEveryShard } from "../helpers/shards";
import { admin, device, member, superAdmin, token } from "../helpers/tokens";

const path = (id: string, query = "") => `/api/v1/skills/access/equipment/${id}${query}`;

describe("equipment access checks", () => {
  let laser: SkillFixture;
  let material: SkillFixture;
  let laserCutter: EquipmentFixture;
  let openBench: EquipmentFixture;
  let broken: EquipmentFixture;
  let retired: EquipmentFixture;
  let otherMsEquipment: EquipmentFixture;

  beforeAll(async () => {
    laserCutter = await makeEquipment({ id: "eq-laser-001", name: "Epilog Helix Laser" });
    openBench = await makeEquipment({ name: "Open Workbench" });
    broken = await makeEquipment({ name: "Broken Mill", status: "maintenance" });
    retired = await makeEquipment({ name: "Old Lathe", status: "retired" });
    otherMsEquipment = await makeEquipment({ makerspace_id: "ms-2" });
    laser = await makeSkill({
      name: "Laser Safety Certification",
      category: "Safety",
      level: "beginner",
      equipment_ids: [laserCutter.id, broken.id, retired.id],
    });
    material = await makeSkill({ name: "Material Handling", category: "Safety", equipment_ids: [laserCutter.id] });
    await seedCertification({ user_id: "holder", skill_id: laser.id });
    await seedCertification({ user_id: "holder", skill_id: material.id, expires_at: null });
    await seedCertification({ user_id: "half", skill_id: material.id });
    await seedCertification({
      user_id: "expired-user",
      skill_id: laser.id,
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    });
    await seedCertification({ user_id: "expired-user", skill_id: material.id });
  });

  beforeEach(() => clearRequirementsCache());

  describe("GET /skills/access/equipment/{id}", () => {
    it("answers the design's example shape for a user missing a skill", async () => {
      const res = await callJson("GET", path(laserCutter.id, "?user_id=half"), { token: await admin() });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        equipment_id: "eq-laser-001",
        equipment_name: "Epilog Helix Laser",
        user_id: "half",
        can_access: false,
        user_skills: ["Material Handling"],
        missing_skills: ["Laser Safety Certification"],
        reason: "Missing required skills: Laser Safety Certification",
      });
    });

    it("allows a user holding every required skill, in both consistency modes", async () => {
      for (const consistency of ["cached", "strong"]) {
        const res = await callJson("GET", path(laserCutter.id, `?user_id=holder&consistency=${consistency}`), {
          token: await device(),
        });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          can_access: true,
          user_skills: ["Laser Safety Certification", "Material Handling"],
          missing_skills: [],
          reason: "All required skills certified",
        });
      }
    });

    it("does not honour a certification whose expires_at has passed (before any cron)", async () => {
      const res = await callJson("GET", path(laserCutter.id, "?user_id=expired-user&consistency=strong"), {
        token: await admin(),
      });
      expect(res.body).toMatchObject({ can_access: false, missing_skills: ["Laser Safety Certification"] });
    });

    it("does not honour a cached certification that expired after it was cached", async () => {
      const past = new Date(Date.now() - 1000).toISOString();
      await env.USER_SKILLS_CACHE.put(
        userSkillsKey("ms-1", "kv-stale"),
        JSON.stringify({
          v: 1,
          certifications: [
            { skill_id: laser.id, expires_at: past },
            { skill_id: material.id, expires_at: null },
          ],
        }),
      );
      const res = await callJson("GET", path(laserCutter.id, "?user_id=kv-stale&consistency=cached"), {
        token: await admin(),
      });
      expect(res.body).toMatchObject({ can_access: false, missing_skills: ["Laser Safety Certification"] });
    });

    it("answers from D1 when KV refuses the cache fill (never a 500)", async () => {
      const kv = new Proxy(env.USER_SKILLS_CACHE, {
        get(target, prop) {
          if (prop === "put") {
            return async () => {
              throw new Error("KV PUT failed: 429 (injected)");
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const res = await callJson("GET", path(laserCutter.id, "?user_id=holder&consistency=cached"), {
        token: await admin(),
        env: { ...env, USER_SKILLS_CACHE: kv } as Env,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ can_access: true });
    });

    it("opens equipment with no linked skills to everyone", async () => {
      const res = await callJson("GET", path(openBench.id, "?user_id=nobody"), { token: await admin() });
      expect(res.body).toMatchObject({ can_access: true, missing_skills: [], reason: "No skills required" });
    });

    it("closes equipment in maintenance or retired even to a certified user", async () => {
      const m = await callJson("GET", path(broken.id, "?user_id=holder"), { token: await admin() });
      expect(m.body).toMatchObject({ can_access: false, reason: "Equipment is under maintenance" });
      const r = await callJson("GET", path(retired.id, "?user_id=holder"), { token: await admin() });
      expect(r.body).toMatchObject({ can_access: false, reason: "Equipment is retired" });
    });

    it("emergency override opens available equipment only", async () => {
      const overridden = envWith({ EQUIPMENT_EMERGENCY_OVERRIDE: "true" });
      const open = await callJson("GET", path(laserCutter.id, "?user_id=nobody"), {
        token: await admin(),
        env: overridden,
      });
      expect(open.body).toMatchObject({ can_access: true, reason: "Emergency override is active" });
      const closed = await callJson("GET", path(broken.id, "?user_id=nobody"), {
        token: await admin(),
        env: overridden,
      });
      expect(closed.body).toMatchObject({ can_access: false });
    });

    it("with enforcement off opens equipment but still lists missing skills", async () => {
      const res = await callJson("GET", path(laserCutter.id, "?user_id=half"), {
        token: await admin(),
        env: envWith({ EQUIPMENT_SKILL_ENFORCEMENT: "false" }),
      });
      expect(res.body).toMatchObject({
        can_access: true,
        missing_skills: ["Laser Safety Certification"],
        reason: "Skill enforcement is disabled; missing: Laser Safety Certification",
      });
    });

    it("fails closed on an invalid enforcement value", async () => {
      const logs = captureLogs();
      const res = await callJson("GET", path(laserCutter.id, "?user_id=half"), {
        token: await admin(),
        env: envWith({ EQUIPMENT_SKILL_ENFORCEMENT: "maybe" }),
      });
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ error_type: "config_error", status_code: 500 });
      expect(logs.messages("error")).toEqual(["invalid configuration", "request failed"]);
    });

    it("lets a member check only their own access, user_id optional", async () => {
      const own = await callJson("GET", path(laserCutter.id), { token: await member("holder") });
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ user_id: "holder", can_access: true });
      const explicit = await callJson("GET", path(laserCutter.id, "?user_id=holder"), {
        token: await member("holder"),
      });
      expect(explicit.status).toBe(200);
      const other = await callJson("GET", path(laserCutter.id, "?user_id=half"), { token: await member("holder") });
      expect(other.status).toBe(403);
      expect(other.body).toMatchObject({ error_type: "forbidden", status_code: 403 });
    });

    it("requires user_id from devices and admins", async () => {
      const res = await callJson("GET", path(laserCutter.id), { token: await device() });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error_type: "validation_error", errors: [{ path: "user_id" }] });
    });

    it("rejects an unknown consistency value", async () => {
      const res = await callJson("GET", path(laserCutter.id, "?user_id=x&consistency=eventual"), {
        token: await admin(),
      });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ errors: [{ path: "consistency" }] });
    });

    it("answers 404 for unknown equipment and for another makerspace's", async () => {
      for (const id of ["eq-does-not-exist", otherMsEquipment.id]) {
        const res = await callJson("GET", path(id, "?user_id=holder"), { token: await admin() });
        expect(res.status).toBe(404);
        expect(res.body).toEqual({
          detail: "Equipment not found",
          status_code: 404,
          error_type: "equipment_not_found",
        });
      }
      const su = await callJson("GET", path(otherMsEquipment.id, "?user_id=holder"), { token: await superAdmin() });
      expect(su.status).toBe(200);
    });

    it("has no side effects: no audit event is produced", async () => {
      const before = await countOnEveryShard("select count(*) as n from audit_outbox");
      await callJson("GET", path(laserCutter.id, "?user_id=holder"), { token: await admin() });
      expect(await countOnEveryShard("select count(*) as n from audit_outbox")).toBe(before);
    });
  });

  describe("POST /skills/access/equipment/{id}/verify", () => {
    const verify = (id: string) => `/api/v1/skills/access/equipment/${id}/verify`;

    it("returns 200 with the decision when allowed", async () => {
      const res = await callJson("POST", verify(laserCutter.id), {
        token: await device(),
        body: { user_id: "holder" },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        equipment_id: laserCutter.id,
        equipment_name: "Epilog Helix Laser",
        user_id: "holder",
        can_access: true,
        user_skills: ["Laser Safety Certification", "Material Handling"],
        missing_skills: [],
        reason: "All required skills certified",
      });
    });

    it("returns 403 insufficient_skills with missing_skills, reason and denial missing_skills", async () => {
      const res = await callJson("POST", verify(laserCutter.id), {
        token: await device(),
        body: { user_id: "nobody" },
      });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        detail: "Missing required skills: Laser Safety Certification, Material Handling",
        status_code: 403,
        error_type: "insufficient_skills",
        missing_skills: ["Laser Safety Certification", "Material Handling"],
        reason: "Missing required skills: Laser Safety Certification, Material Handling",
        denial: "missing_skills",
      });
    });

    it.each([
      ["maintenance", "Equipment is under maintenance"],
      ["retired", "Equipment is retired"],
    ] as const)(
      "denies %s equipment as equipment_unavailable, even to a member holding every skill",
      async (status, reason) => {
        const item = status === "maintenance" ? broken : retired;
        for (const user of ["holder", "nobody"]) {
          const spy = queueSpy();
          const res = await callJson("POST", verify(item.id), {
            token: await device(),
            body: { user_id: user },
            env: spy.env,
          });
          expect(res.status).toBe(403);
          expect(res.body).toMatchObject({
            error_type: "insufficient_skills",
            detail: reason,
            reason,
            denial: "equipment_unavailable",
          });
          expect(spy.sent).toEqual([
            expect.objectContaining({
              action: "access_denied",
              user_id: user,
              metadata: expect.objectContaining({ denial: "equipment_unavailable" }),
            }),
          ]);
        }
      },
    );

    it("carries no denial when allowed, and audits the denial code only on denials", async () => {
      const spy = queueSpy();
      const allowed = await callJson("POST", verify(openBench.id), {
        token: await device(),
        body: { user_id: "nobody" },
        env: spy.env,
      });
      expect(allowed.status).toBe(200);
      expect(allowed.body).not.toHaveProperty("denial");
      const denied = await callJson("POST", verify(laserCutter.id), {
        token: await device(),
        body: { user_id: "half" },
        env: spy.env,
      });
      expect(denied.body).toMatchObject({ denial: "missing_skills", missing_skills: ["Laser Safety Certification"] });
      expect(spy.sent.map((e) => [e.action, (e.metadata as { denial?: string }).denial])).toEqual([
        ["access_granted", undefined],
        ["access_denied", "missing_skills"],
      ]);
    });

    it("lets enforcement=false and the emergency override open without a denial", async () => {
      for (const vars of [{ EQUIPMENT_SKILL_ENFORCEMENT: "false" }, { EQUIPMENT_EMERGENCY_OVERRIDE: "true" }]) {
        const res = await callJson("POST", verify(laserCutter.id), {
          token: await device(),
          body: { user_id: "nobody" },
          env: envWith(vars),
        });
        expect(res.status).toBe(200);
        expect(res.body).not.toHaveProperty("denial");
        const closed = await callJson("POST", verify(broken.id), {
          token: await device(),
          body: { user_id: "holder" },
          env: envWith(vars),
        });
        expect(closed.body).toMatchObject({ denial: "equipment_unavailable" });
      }
    });

    it("is always strong: a stale KV entry granting access is ignored", async () => {
      await env.USER_SKILLS_CACHE.put(
        userSkillsKey("ms-1", "kv-liar"),
        JSON.stringify({
          v: 1,
          certifications: [
            { skill_id: laser.id, expires_at: null },
            { skill_id: material.id, expires_at: null },
          ],
        }),
      );
      const cached = await callJson("GET", path(laserCutter.id, "?user_id=kv-liar"), { token: await device() });
      expect(cached.body).toMatchObject({ can_access: true });
      const res = await callJson("POST", verify(laserCutter.id), {
        token: await device(),
        body: { user_id: "kv-liar" },
      });
      expect(res.status).toBe(403);
    });

    it("writes access_granted and access_denied events with the device as actor", async () => {
      await callJson("POST", verify(laserCutter.id), { token: await device("door-7"), body: { user_id: "holder" } });
      await callJson("POST", verify(laserCutter.id), { token: await device("door-7"), body: { user_id: "half" } });
      // The events went to the queue off the response path; the consumer writes them.
      const rows = await waitForAudit("door-7", 2);
      expect(rows.map((r) => [r.action, r.user_id]).sort()).toEqual([
        ["access_denied", "half"],
        ["access_granted", "holder"],
      ]);
    });

    it("audits a super_admin's verify in the equipment's makerspace", async () => {
      const spy = queueSpy();
      const res = await callJson("POST", verify(laserCutter.id), {
        token: await superAdmin("root-9"),
        body: { user_id: "holder" },
        env: spy.env,
      });
      expect(res.status).toBe(200);
      expect(spy.sent).toHaveLength(1);
      expect(spy.sent[0]).toMatchObject({ action: "access_granted", makerspace_id: "ms-1", performed_by: "root-9" });
    });

    it("is refused to members, and validates the body", async () => {
      const m = await callJson("POST", verify(laserCutter.id), {
        token: await member("holder"),
        body: { user_id: "holder" },
      });
      expect(m.status).toBe(403);
      const bad = await callJson("POST", verify(laserCutter.id), { token: await device(), body: {} });
      expect(bad.status).toBe(422);
    });
  });

  describe("GET /skills/access/equipment (bulk)", () => {
    it("lists every non-retired item with a summary", async () => {
      const res = await callJson<{
        user_id: string;
        makerspace_id: string;
        equipment_access: {
          equipment_id: string;
          can_access: boolean;
          user_skills: string[];
          missing_skills: string[];
        }[];
        summary: { total_equipment: number; accessible_equipment: number; access_percentage: number };
      }>("GET", "/api/v1/skills/access/equipment?user_id=half&makerspace_id=ms-1", { token: await admin() });
      expect(res.status).toBe(200);
      expect(res.body.user_id).toBe("half");
      expect(res.body.makerspace_id).toBe("ms-1");
      const ids = res.body.equipment_access.map((e) => e.equipment_id);
      expect(ids).toContain(laserCutter.id);
      expect(ids).toContain(broken.id);
      expect(ids).not.toContain(retired.id);
      expect(ids).not.toContain(otherMsEquipment.id);
      const laserEntry = res.body.equipment_access.find((e) => e.equipment_id === laserCutter.id);
      expect(laserEntry).toEqual({
        equipment_id: laserCutter.id,
        equipment_name: "Epilog Helix Laser",
        can_access: false,
        user_skills: ["Material Handling"],
        missing_skills: ["Laser Safety Certification"],
      });
      const total = res.body.equipment_access.length;
      const accessible = res.body.equipment_access.filter((e) => e.can_access).length;
      expect(res.body.summary).toEqual({
        total_equipment: total,
        accessible_equipment: accessible,
        access_percentage: Math.round((accessible / total) * 1000) / 10,
      });
    });

    it("sees equipment added or closed through this isolate at once, even in cached mode", async () => {
      const bulk = async () =>
        (
          await callJson<{ equipment_access: { equipment_id: string; can_access: boolean }[] }>(
            "GET",
            "/api/v1/skills/access/equipment?user_id=holder&consistency=cached",
            { token: await admin() },
          )
        ).body.equipment_access;
      await bulk();
      const fresh = await makeEquipment({ name: "Fresh Drill Press" });
      expect((await bulk()).find((e) => e.equipment_id === fresh.id)?.can_access).toBe(true);
      const single = path(fresh.id, "?user_id=holder&consistency=cached");
      expect((await callJson("GET", single, { token: await admin() })).body).toMatchObject({ can_access: true });
      await callJson("PUT", `/api/v1/equipment/${fresh.id}`, { token: await admin(), body: { status: "maintenance" } });
      expect((await bulk()).find((e) => e.equipment_id === fresh.id)?.can_access).toBe(false);
      expect((await callJson("GET", single, { token: await admin() })).body).toMatchObject({
        can_access: false,
        reason: "Equipment is under maintenance",
      });
    });

    it("rounds the percentage to one decimal", async () => {
      const res = await callJson<{ summary: { access_percentage: number } }>(
        "GET",
        "/api/v1/skills/access/equipment?user_id=nobody",
        { token: await admin() },
      );
      const text = String(res.body.summary.access_percentage);
      expect(text).toMatch(/^\d+(\.\d)?$/);
    });

    it("scopes members to themselves and makerspaces to the caller's", async () => {
      const own = await callJson("GET", "/api/v1/skills/access/equipment", { token: await member("holder") });
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ user_id: "holder", makerspace_id: "ms-1" });
      const other = await callJson("GET", "/api/v1/skills/access/equipment?user_id=half", {
        token: await member("holder"),
      });
      expect(other.status).toBe(403);
      const foreign = await callJson("GET", "/api/v1/skills/access/equipment?user_id=x&makerspace_id=ms-2", {
        token: await admin(),
      });
      expect(foreign.status).toBe(403);
      const su = await callJson("GET", "/api/v1/skills/access/equipment?user_id=x", { token: await superAdmin() });
      expect(su.status).toBe(422);
    });
  });

  describe("GET /skills/equipment-requirements", () => {
    it("lists each item with its required skills", async () => {
      const res = await callJson<
        { equipment_id: string; equipment_name: string; required_skills: Record<string, unknown>[] }[]
      >("GET", "/api/v1/skills/equipment-requirements?makerspace_id=ms-1", { token: await member() });
      expect(res.status).toBe(200);
      const entry = res.body.find((e) => e.equipment_id === laserCutter.id);
      expect(entry).toEqual({
        equipment_id: "eq-laser-001",
        equipment_name: "Epilog Helix Laser",
        required_skills: [
          {
            skill_id: laser.id,
            skill_name: "Laser Safety Certification",
            skill_level: "beginner",
            required_level: "beginner",
            category: "Safety",
            is_required: true,
          },
          {
            skill_id: material.id,
            skill_name: "Material Handling",
            skill_level: "beginner",
            required_level: "beginner",
            category: "Safety",
            is_required: true,
          },
        ],
      });
      expect(res.body.find((e) => e.equipment_id === openBench.id)?.required_skills).toEqual([]);
      expect(res.body.some((e) => e.equipment_id === otherMsEquipment.id)).toBe(false);
    });

    it("refuses another makerspace's filter and an unknown role", async () => {
      const res = await callJson("GET", "/api/v1/skills/equipment-requirements?makerspace_id=ms-2", {
        token: await device(),
      });
      expect(res.status).toBe(403);
      const weird = await callJson("GET", "/api/v1/skills/equipment-requirements", {
        token: await token({ role: "janitor" }),
      });
      expect(weird.status).toBe(403);
    });
  });
});

/** Polls the audit table until the consumer has written `count` rows by this actor. */
async function waitForAudit(performedBy: string, count: number) {
  for (let i = 0; i < 50; i++) {
    const results = await onEveryShard(
      async (db) =>
        (
          await db
            .prepare("select action, user_id from skill_audit_logs where performed_by = ? order by created_at")
            .bind(performedBy)
            .all<{ action: string; user_id: string }>()
        ).results,
    );
    if (results.length >= count) return results;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`audit rows for ${performedBy} did not appear`);
}
