import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../helpers/assertions";
import { type EquipmentFixture, makeEquipment, makeSkill, type SkillFixture, uniqueName } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin, device, member, superAdmin, token } from "../helpers/tokens";

type RoleName = "super_admin" | "makerspace_admin" | "member" | "device" | "unknown";
const ROLES: RoleName[] = ["super_admin", "makerspace_admin", "member", "device", "unknown"];

function tokenFor(role: RoleName): Promise<string> {
  switch (role) {
    case "super_admin":
      return superAdmin();
    case "makerspace_admin":
      return admin("ms-1");
    case "member":
      return member("user-1", "ms-1");
    case "device":
      return device("device-1", "ms-1");
    case "unknown":
      return token({ role: "auditor", sub: "x-1", makerspace: "ms-1" });
  }
}

let skill: SkillFixture;
let eq: EquipmentFixture;
let foreignSkill: SkillFixture;
let foreignEq: EquipmentFixture;

beforeAll(async () => {
  skill = await makeSkill();
  eq = await makeEquipment();
  foreignSkill = await makeSkill({ makerspace_id: "ms-2" });
  foreignEq = await makeEquipment({ makerspace_id: "ms-2" });
});

interface RouteCase {
  name: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  status: number;
  allowed: RoleName[];
}

const ADMINS: RoleName[] = ["super_admin", "makerspace_admin"];
const READERS: RoleName[] = ["super_admin", "makerspace_admin", "member", "device"];

/** Every skills/equipment route: who may call it (docs/API.md, "Resources") and its success status. */
const ROUTES: RouteCase[] = [
  {
    name: "POST /skills/",
    method: "POST",
    path: () => "/api/v1/skills/",
    body: () => ({ name: uniqueName(), category: "Safety", level: "beginner", makerspace_id: "ms-1" }),
    status: 201,
    allowed: ADMINS,
  },
  { name: "GET /skills/", method: "GET", path: () => "/api/v1/skills/", status: 200, allowed: READERS },
  { name: "GET /skills/{id}", method: "GET", path: () => `/api/v1/skills/${skill.id}`, status: 200, allowed: READERS },
  {
    name: "PUT /skills/{id}",
    method: "PUT",
    path: () => `/api/v1/skills/${skill.id}`,
    body: () => ({ description: "updated" }),
    status: 200,
    allowed: ADMINS,
  },
  {
    name: "POST /equipment",
    method: "POST",
    path: () => "/api/v1/equipment",
    body: () => ({ name: uniqueName("Machine"), makerspace_id: "ms-1" }),
    status: 201,
    allowed: ADMINS,
  },
  { name: "GET /equipment", method: "GET", path: () => "/api/v1/equipment", status: 200, allowed: READERS },
  {
    name: "GET /equipment/{id}",
    method: "GET",
    path: () => `/api/v1/equipment/${eq.id}`,
    status: 200,
    allowed: READERS,
  },
  {
    name: "PUT /equipment/{id}",
    method: "PUT",
    path: () => `/api/v1/equipment/${eq.id}`,
    body: () => ({ location: "Room 9" }),
    status: 200,
    allowed: ADMINS,
  },
];

const TABLE = ROUTES.flatMap((route) => ROLES.map((role) => ({ route, role, ok: route.allowed.includes(role) })));

describe("role × route", () => {
  it.each(TABLE.map((t) => [t.route.name, t.role, t.ok ? "allowed" : "403", t] as const))(
    "%s as %s → %s",
    async (_n, role, _o, { route, ok }) => {
      const res = await callJson(route.method, route.path(), {
        token: await tokenFor(role),
        ...(route.body ? { body: route.body() } : {}),
      });
      if (ok) expect(res.status, JSON.stringify(res.body)).toBe(route.status);
      else expectError(res, 403, "forbidden");
    },
  );

  it.each(["member", "device", "unknown"] as const)("a %s gets 403 before any body validation", async (role) => {
    const t = await tokenFor(role);
    for (const [method, path] of [
      ["POST", "/api/v1/skills/"],
      ["PUT", `/api/v1/skills/${skill.id}`],
      ["POST", "/api/v1/equipment"],
      ["PUT", `/api/v1/equipment/${eq.id}`],
    ] as const) {
      expectError(await callJson(method, path, { token: t, body: {} }), 403, "forbidden");
    }
  });
});

describe("tenancy", () => {
  it.each(["makerspace_admin", "member", "device"] as const)(
    "%s: another makerspace's skill or equipment by id is 404",
    async (role) => {
      const t = await tokenFor(role);
      expectError(await callJson("GET", `/api/v1/skills/${foreignSkill.id}`, { token: t }), 404, "skill_not_found");
      expectError(await callJson("GET", `/api/v1/equipment/${foreignEq.id}`, { token: t }), 404, "equipment_not_found");
    },
  );

  it("an admin updating another makerspace's resources gets 404 and changes nothing", async () => {
    const t = await admin("ms-1");
    const s = await callJson("PUT", `/api/v1/skills/${foreignSkill.id}`, { token: t, body: { level: "expert" } });
    expectError(s, 404, "skill_not_found");
    const e = await callJson("PUT", `/api/v1/equipment/${foreignEq.id}`, { token: t, body: { status: "retired" } });
    expectError(e, 404, "equipment_not_found");
    const root = await superAdmin();
    const skillNow = await callJson("GET", `/api/v1/skills/${foreignSkill.id}`, { token: root });
    expect(skillNow.body).toMatchObject({ level: foreignSkill.level });
    const eqNow = await callJson("GET", `/api/v1/equipment/${foreignEq.id}`, { token: root });
    expect(eqNow.body).toMatchObject({ status: "available" });
  });

  it.each(["makerspace_admin", "member", "device"] as const)(
    "%s: a list filter naming another makerspace is 403; its own is fine",
    async (role) => {
      const t = await tokenFor(role);
      for (const path of ["/api/v1/skills/", "/api/v1/equipment"]) {
        expectError(await callJson("GET", `${path}?makerspace_id=ms-2`, { token: t }), 403, "forbidden");
        expect((await callJson("GET", `${path}?makerspace_id=ms-1`, { token: t })).status).toBe(200);
      }
    },
  );

  it("lists without a filter show only the caller's makerspace", async () => {
    const t = await member("user-1", "ms-1");
    const skills = await callJson<{ makerspace_id: string }[]>("GET", "/api/v1/skills?limit=200", { token: t });
    const items = await callJson<{ makerspace_id: string }[]>("GET", "/api/v1/equipment?limit=200", { token: t });
    expect(skills.body.length).toBeGreaterThan(0);
    expect(items.body.length).toBeGreaterThan(0);
    expect([...skills.body, ...items.body].every((r) => r.makerspace_id === "ms-1")).toBe(true);
  });

  it("an admin creating in another makerspace (body makerspace_id) is 403", async () => {
    const t = await admin("ms-1");
    const s = await callJson("POST", "/api/v1/skills/", {
      token: t,
      body: { name: uniqueName(), category: "Safety", level: "beginner", makerspace_id: "ms-2" },
    });
    expectError(s, 403, "forbidden");
    const e = await callJson("POST", "/api/v1/equipment", {
      token: t,
      body: { name: uniqueName("Machine"), makerspace_id: "ms-2" },
    });
    expectError(e, 403, "forbidden");
  });

  it("super_admin sees and changes every makerspace", async () => {
    const t = await superAdmin();
    const all = await callJson<{ id: string }[]>("GET", "/api/v1/skills?limit=200", { token: t });
    const ids = all.body.map((s) => s.id);
    expect(ids).toContain(skill.id);
    expect(ids).toContain(foreignSkill.id);
    const only2 = await callJson<{ makerspace_id: string }[]>("GET", "/api/v1/skills?makerspace_id=ms-2", { token: t });
    expect(only2.body.length).toBeGreaterThan(0);
    expect(only2.body.every((s) => s.makerspace_id === "ms-2")).toBe(true);
    const eqs = await callJson<{ id: string }[]>("GET", "/api/v1/equipment?limit=200", { token: t });
    expect(eqs.body.map((e) => e.id)).toEqual(expect.arrayContaining([eq.id, foreignEq.id]));

    expect((await callJson("GET", `/api/v1/skills/${foreignSkill.id}`, { token: t })).status).toBe(200);
    expect((await callJson("GET", `/api/v1/equipment/${foreignEq.id}`, { token: t })).status).toBe(200);
    const created = await callJson("POST", "/api/v1/skills/", {
      token: t,
      body: { name: uniqueName(), category: "Safety", level: "beginner", makerspace_id: "ms-3" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ makerspace_id: "ms-3" });
    const put = await callJson("PUT", `/api/v1/equipment/${foreignEq.id}`, { token: t, body: { location: "Hall" } });
    expect(put.status).toBe(200);
  });

  it("super_admin still cannot link ids across makerspaces", async () => {
    const res = await callJson("POST", "/api/v1/skills/", {
      token: await superAdmin(),
      body: {
        name: uniqueName(),
        category: "Safety",
        level: "beginner",
        makerspace_id: "ms-2",
        prerequisite_ids: [skill.id],
      },
    });
    expectError(res, 422, "validation_error", { errors: [{ path: "prerequisite_ids", message: expect.any(String) }] });
  });
});
