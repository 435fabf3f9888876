import { describe, expect, it } from "vitest";
import { expectError, expectValidation } from "../helpers/assertions";
import { ISO_MS } from "../helpers/certifications";
import { makeEquipment, makeSkill, uniqueName } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

interface EquipmentBody {
  id: string;
  name: string;
  makerspace_id: string;
  category: string | null;
  location: string | null;
  status: string;
  required_skill_ids: string[];
  created_at: string;
  updated_at: string;
}

async function register(body: Record<string, unknown>, makerspace = "ms-1", path = "/api/v1/equipment") {
  return callJson<EquipmentBody>("POST", path, { token: await admin(makerspace), body });
}

async function get(id: string) {
  return callJson<EquipmentBody>("GET", `/api/v1/equipment/${id}`, { token: await admin() });
}

describe("POST /api/v1/equipment", () => {
  it("201 with a generated id and the exact resource shape", async () => {
    const res = await register({ name: "Epilog Laser", makerspace_id: "ms-1" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^eq_s\d+_[0-9a-f-]{36}$/),
      name: "Epilog Laser",
      makerspace_id: "ms-1",
      category: null,
      location: null,
      status: "available",
      required_skill_ids: [],
      created_at: expect.stringMatching(ISO_MS),
      updated_at: expect.stringMatching(ISO_MS),
    });
    expect((await get(res.body.id)).body).toEqual(res.body);
  });

  it("201 with a caller-given id and every optional field", async () => {
    const res = await register({
      id: "eq-laser-001",
      name: "Laser 1",
      makerspace_id: "ms-1",
      category: "Laser",
      location: "Room B",
      status: "maintenance",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: "eq-laser-001",
      category: "Laser",
      location: "Room B",
      status: "maintenance",
    });
  });

  it.each(["a", "EQ_1.2:b-3", "x".repeat(64)])("accepts the id %j", async (id) => {
    expect((await register({ id, name: uniqueName("M"), makerspace_id: "ms-1" })).status).toBe(201);
  });

  it.each([
    ["an empty id", { id: "" }, ["id"]],
    ["an id over 64 characters", { id: "x".repeat(65) }, ["id"]],
    ["an id with a space", { id: "eq 1" }, ["id"]],
    ["an id with a slash", { id: "eq/1" }, ["id"]],
    ["a missing name", { name: undefined }, ["name"]],
    ["a blank name", { name: "  " }, ["name"]],
    ["a missing makerspace_id", { makerspace_id: undefined }, ["makerspace_id"]],
    ["an unknown status", { status: "broken" }, ["status"]],
    ["category over 50", { category: "c".repeat(51) }, ["category"]],
  ])("422 for %s", async (_label, patch, paths) => {
    expectValidation(await register({ name: uniqueName("M"), makerspace_id: "ms-1", ...patch }), paths);
  });

  it("409 equipment_conflict for an id already registered, in any makerspace", async () => {
    await makeEquipment({ id: "eq-dup-1" });
    expectError(await register({ id: "eq-dup-1", name: "Other", makerspace_id: "ms-1" }), 409, "equipment_conflict");
    expectError(
      await register({ id: "eq-dup-1", name: "Other", makerspace_id: "ms-2" }, "ms-2"),
      409,
      "equipment_conflict",
    );
    expect((await get("eq-dup-1")).body.name).not.toBe("Other");
  });

  it("works with a trailing slash", async () => {
    const res = await register({ name: uniqueName("M"), makerspace_id: "ms-1" }, "ms-1", "/api/v1/equipment/");
    expect(res.status).toBe(201);
  });
});

describe("GET /api/v1/equipment/{id}", () => {
  it("returns the equipment, with and without a trailing slash", async () => {
    const eq = await makeEquipment({ id: "eq-get-1", location: "Shop" });
    for (const path of ["/api/v1/equipment/eq-get-1", "/api/v1/equipment/eq-get-1/"]) {
      const res = await callJson<EquipmentBody>("GET", path, { token: await admin() });
      expect(res.status, path).toBe(200);
      expect(res.body).toMatchObject({ id: eq.id, location: "Shop" });
    }
  });

  it("404 equipment_not_found for an unknown id", async () => {
    expectError(await get("eq-missing"), 404, "equipment_not_found");
  });

  it("required_skill_ids lists the skills that link it, kept up to date", async () => {
    const eq = await makeEquipment();
    const a = await makeSkill({ equipment_ids: [eq.id] });
    const b = await makeSkill({ equipment_ids: [eq.id] });
    expect((await get(eq.id)).body.required_skill_ids).toEqual([a.id, b.id].sort());
    const res = await callJson("PUT", `/api/v1/skills/${a.id}`, { token: await admin(), body: { equipment_ids: [] } });
    expect(res.status).toBe(200);
    expect((await get(eq.id)).body.required_skill_ids).toEqual([b.id]);
    const listed = await callJson<EquipmentBody[]>("GET", "/api/v1/equipment?limit=200", { token: await admin() });
    expect(listed.body.find((e) => e.id === eq.id)?.required_skill_ids).toEqual([b.id]);
  });
});

describe("GET /api/v1/equipment (list)", () => {
  const MS = "ms-eq-list";

  async function list(query = "") {
    return callJson<EquipmentBody[]>("GET", `/api/v1/equipment${query}`, { token: await admin(MS) });
  }

  it("lists the caller's makerspace, filters by status, sorted by name, with limit/offset", async () => {
    await makeEquipment({ makerspace_id: MS, name: "Drill Press" });
    await makeEquipment({ makerspace_id: MS, name: "bandsaw", status: "maintenance" });
    await makeEquipment({ makerspace_id: MS, name: "Lathe", status: "retired" });
    await makeEquipment({ makerspace_id: MS, name: "CNC Router" });
    await makeEquipment({ makerspace_id: "ms-eq-other", name: "Elsewhere" });

    const names = (res: { body: EquipmentBody[] }) => res.body.map((e) => e.name);
    const all = await list();
    expect(all.status).toBe(200);
    expect(names(all)).toEqual(["bandsaw", "CNC Router", "Drill Press", "Lathe"]);
    expect(names(await list(`?makerspace_id=${MS}`))).toEqual(names(all));
    expect(names(await list("?status=available"))).toEqual(["CNC Router", "Drill Press"]);
    expect(names(await list("?status=maintenance"))).toEqual(["bandsaw"]);
    expect(names(await list("?status=retired"))).toEqual(["Lathe"]);
    expect(names(await list("?limit=2"))).toEqual(["bandsaw", "CNC Router"]);
    expect(names(await list("?limit=2&offset=2"))).toEqual(["Drill Press", "Lathe"]);
    expect(names(await list("?offset=4"))).toEqual([]);
  });

  it.each([
    ["?status=broken", ["status"]],
    ["?limit=201", ["limit"]],
    ["?limit=0", ["limit"]],
    ["?offset=-1", ["offset"]],
  ])("422 for %s", async (query, paths) => {
    expectValidation(await list(query), paths);
  });

  it("limit allows 200", async () => {
    expect((await list("?limit=200")).status).toBe(200);
  });
});

describe("PUT /api/v1/equipment/{id}", () => {
  it("changes only the given fields", async () => {
    const eq = await makeEquipment({ category: "Wood", location: "Shop" });
    const before = (await get(eq.id)).body;
    await new Promise((r) => setTimeout(r, 5));
    const res = await callJson<EquipmentBody>("PUT", `/api/v1/equipment/${eq.id}`, {
      token: await admin(),
      body: { status: "maintenance" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...before, status: "maintenance", updated_at: expect.any(String) });
    expect(res.body.updated_at > before.updated_at).toBe(true);
  });

  it("updates name, category and location (null clears), with a trailing slash too", async () => {
    const eq = await makeEquipment({ category: "Wood", location: "Shop" });
    const res = await callJson<EquipmentBody>("PUT", `/api/v1/equipment/${eq.id}/`, {
      token: await admin(),
      body: { name: "Renamed", category: null, location: "Room 2", status: "retired" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Renamed", category: null, location: "Room 2", status: "retired" });
  });

  it.each([
    ["an empty body", {}, ["(root)"]],
    ["makerspace_id", { makerspace_id: "ms-2" }, ["makerspace_id"]],
    ["id", { id: "eq-new" }, ["id"]],
    ["a blank name", { name: "" }, ["name"]],
    ["an unknown status", { status: "broken" }, ["status"]],
  ])("422 for %s", async (_label, body, paths) => {
    const eq = await makeEquipment();
    expectValidation(await callJson("PUT", `/api/v1/equipment/${eq.id}`, { token: await admin(), body }), paths);
  });

  it("404 equipment_not_found for an unknown id", async () => {
    const res = await callJson("PUT", "/api/v1/equipment/eq-missing", { token: await admin(), body: { name: "X" } });
    expectError(res, 404, "equipment_not_found");
  });
});
