import { describe, expect, it } from "vitest";
import type { Skill } from "../../src/catalogue/skills.schemas";
import { expectError, expectValidation } from "../helpers/assertions";
import { ISO_MS } from "../helpers/certifications";
import { makeEquipment, makeSkill, uniqueName } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

type SkillBody = Skill;

async function create(body: Record<string, unknown>, makerspace = "ms-1") {
  return callJson<SkillBody>("POST", "/api/v1/skills/", { token: await admin(makerspace), body });
}

const valid = (extra: Record<string, unknown> = {}) => ({
  name: uniqueName(),
  category: "Safety",
  level: "beginner",
  makerspace_id: "ms-1",
  ...extra,
});

describe("POST /api/v1/skills/", () => {
  it("201 with the exact resource shape and defaults", async () => {
    const res = await create({
      name: "Laser Cutter Safety",
      category: "Safety",
      level: "beginner",
      makerspace_id: "ms-1",
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^skill_s\d+_[0-9a-f-]{36}$/),
      name: "Laser Cutter Safety",
      category: "Safety",
      level: "beginner",
      description: null,
      status: "active",
      makerspace_id: "ms-1",
      prerequisite_ids: [],
      equipment_ids: [],
      validity: { mode: "duration", days: 365 },
      created_at: expect.stringMatching(ISO_MS),
      updated_at: expect.stringMatching(ISO_MS),
    });
    expect(res.body.updated_at).toBe(res.body.created_at);
    const got = await callJson("GET", `/api/v1/skills/${res.body.id}`, { token: await admin() });
    expect(got.body).toEqual(res.body);
  });

  it("keeps description, status and links (ids sorted, duplicates dropped)", async () => {
    const a = await makeSkill();
    const b = await makeSkill();
    const e1 = await makeEquipment();
    const e2 = await makeEquipment();
    const res = await create(
      valid({
        description: "Use of the CNC mill",
        status: "inactive",
        level: "expert",
        prerequisite_ids: [b.id, a.id, a.id],
        equipment_ids: [e2.id, e1.id],
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      description: "Use of the CNC mill",
      status: "inactive",
      level: "expert",
      prerequisite_ids: [a.id, b.id].sort(),
      equipment_ids: [e1.id, e2.id].sort(),
    });
  });

  it("trims the name and accepts letters, digits, spaces and hyphens up to 100 characters", async () => {
    const res = await create(valid({ name: "  3D-Printer Basics 2  " }));
    expect(res.status).toBe(201);
    expect(res.body.name).toBe("3D-Printer Basics 2");
    expect((await create(valid({ name: `A${"b".repeat(98)}Z` }))).status).toBe(201);
    expect((await create(valid({ category: "c".repeat(50), description: "d".repeat(1000) }))).status).toBe(201);
  });

  it.each([
    ["empty name", { name: "" }, ["name"]],
    ["blank name", { name: "   " }, ["name"]],
    ["name over 100", { name: "n".repeat(101) }, ["name"]],
    ["name with _", { name: "Laser_Cutter" }, ["name"]],
    ["name with punctuation", { name: "Laser!" }, ["name"]],
    ["name with non-ASCII letters", { name: "Löten" }, ["name"]],
    ["name not a string", { name: 42 }, ["name"]],
    ["empty category", { category: "" }, ["category"]],
    ["category over 50", { category: "c".repeat(51) }, ["category"]],
    ["description over 1000", { description: "d".repeat(1001) }, ["description"]],
    ["unknown level", { level: "master" }, ["level"]],
    ["unknown status", { status: "deleted" }, ["status"]],
    ["empty makerspace_id", { makerspace_id: "" }, ["makerspace_id"]],
    ["prerequisite_ids not an array", { prerequisite_ids: "skill_1" }, ["prerequisite_ids"]],
    ["equipment_ids with an empty id", { equipment_ids: [""] }, ["equipment_ids.0"]],
  ])("422 for %s", async (_label, patch, paths) => {
    expectValidation(await create({ ...valid(), ...patch }), paths);
  });

  it("422 naming every missing required field", async () => {
    expectValidation(await create({}), ["name", "category", "level", "makerspace_id"]);
    expectValidation(await create({ name: uniqueName(), makerspace_id: "ms-1" }), ["category", "level"]);
  });

  it("422 when a prerequisite or equipment id does not exist", async () => {
    expectValidation(await create(valid({ prerequisite_ids: ["skill_nope"] })), ["prerequisite_ids"]);
    expectValidation(await create(valid({ equipment_ids: ["eq-nope"] })), ["equipment_ids"]);
    expectValidation(await create(valid({ prerequisite_ids: ["skill_nope"], equipment_ids: ["eq-nope"] })), [
      "prerequisite_ids",
      "equipment_ids",
    ]);
  });

  it("422 when a linked id belongs to another makerspace", async () => {
    const foreignSkill = await makeSkill({ makerspace_id: "ms-2" });
    const foreignEq = await makeEquipment({ makerspace_id: "ms-2" });
    expectValidation(await create(valid({ prerequisite_ids: [foreignSkill.id] })), ["prerequisite_ids"]);
    expectValidation(await create(valid({ equipment_ids: [foreignEq.id] })), ["equipment_ids"]);
  });

  it("409 skill_conflict with existing_skill_id for a duplicate name, case-insensitively", async () => {
    const first = await create(valid({ name: "Welding Basics" }));
    expect(first.status).toBe(201);
    for (const name of ["Welding Basics", "welding basics", "  WELDING BASICS "]) {
      expectError(await create(valid({ name })), 409, "skill_conflict", { existing_skill_id: first.body.id });
    }
  });

  it("the same name is free in another makerspace", async () => {
    expect((await create(valid({ name: "Soldering Intro" }))).status).toBe(201);
    expect((await create(valid({ name: "Soldering Intro", makerspace_id: "ms-2" }), "ms-2")).status).toBe(201);
  });

  it("works with and without the trailing slash", async () => {
    const token = await admin();
    for (const path of ["/api/v1/skills", "/api/v1/skills/"]) {
      const res = await callJson<SkillBody>("POST", path, { token, body: valid() });
      expect(res.status, path).toBe(201);
    }
  });
});

describe("GET /api/v1/skills/{id}", () => {
  it("returns the skill, with and without a trailing slash", async () => {
    const skill = await makeSkill({ description: "Handle with care" });
    for (const path of [`/api/v1/skills/${skill.id}`, `/api/v1/skills/${skill.id}/`]) {
      const res = await callJson<SkillBody>("GET", path, { token: await admin() });
      expect(res.status, path).toBe(200);
      expect(res.body).toMatchObject({ id: skill.id, name: skill.name, description: "Handle with care" });
    }
  });

  it("404 skill_not_found for an unknown id", async () => {
    expectError(
      await callJson("GET", "/api/v1/skills/skill_missing", { token: await admin() }),
      404,
      "skill_not_found",
    );
  });
});

describe("GET /api/v1/skills/ (list)", () => {
  const MS = "ms-list";

  async function list(query = "") {
    return callJson<SkillBody[]>("GET", `/api/v1/skills/${query}`, { token: await admin(MS) });
  }

  it("filters by category, level, status and q, sorted by name", async () => {
    await makeSkill({ makerspace_id: MS, name: "Band Saw", category: "Wood", level: "beginner" });
    await makeSkill({ makerspace_id: MS, name: "Table Saw", category: "Wood", level: "advanced" });
    await makeSkill({
      makerspace_id: MS,
      name: "TIG Welding",
      category: "Metal",
      level: "advanced",
      status: "archived",
    });
    await makeSkill({ makerspace_id: MS, name: "Saw Sharpening 100", category: "Metal", level: "expert" });
    await makeSkill({ makerspace_id: "ms-list-other", name: "Band Saw", category: "Wood", level: "beginner" });

    const names = (res: { body: SkillBody[] }) => res.body.map((s) => s.name);
    const all = await list();
    expect(all.status).toBe(200);
    expect(names(all)).toEqual(["Band Saw", "Saw Sharpening 100", "Table Saw", "TIG Welding"]);
    expect(all.body.every((s) => s.makerspace_id === MS)).toBe(true);
    expect(names(await list(`?makerspace_id=${MS}`))).toEqual(names(all));
    expect(names(await list("?category=Wood"))).toEqual(["Band Saw", "Table Saw"]);
    expect(names(await list("?level=advanced"))).toEqual(["Table Saw", "TIG Welding"]);
    expect(names(await list("?status=archived"))).toEqual(["TIG Welding"]);
    expect(names(await list("?category=Wood&level=advanced"))).toEqual(["Table Saw"]);
    expect(names(await list("?q=saw"))).toEqual(["Band Saw", "Saw Sharpening 100", "Table Saw"]);
    expect(names(await list("?q=SAW&category=Metal"))).toEqual(["Saw Sharpening 100"]);
    // LIKE wildcards in q are literal.
    expect(names(await list("?q=%25"))).toEqual([]);
    expect(names(await list("?q=_"))).toEqual([]);
    expect(names(await list("?category=Plastic"))).toEqual([]);
  });

  it.each([
    ["?level=master", ["level"]],
    ["?status=gone", ["status"]],
    ["?limit=201", ["limit"]],
    ["?limit=0", ["limit"]],
    ["?limit=ten", ["limit"]],
    ["?offset=-1", ["offset"]],
  ])("422 for %s", async (query, paths) => {
    expectValidation(await list(query), paths);
  });

  it("limit defaults to 50, allows up to 200, and offset pages through", async () => {
    const PAGE_MS = "ms-page";
    const token = await admin(PAGE_MS);
    for (let i = 0; i < 55; i++) {
      const res = await callJson("POST", "/api/v1/skills", {
        token,
        body: {
          name: `Page Skill ${String(i).padStart(3, "0")}`,
          category: "Paging",
          level: "beginner",
          makerspace_id: PAGE_MS,
        },
      });
      expect(res.status).toBe(201);
    }
    const get = (q: string) => callJson<SkillBody[]>("GET", `/api/v1/skills${q}`, { token });
    const first = await get("");
    expect(first.body).toHaveLength(50);
    expect(first.body[0]?.name).toBe("Page Skill 000");
    expect((await get("?limit=200")).body).toHaveLength(55);
    const page = await get("?limit=10&offset=50");
    expect(page.body.map((s) => s.name)).toEqual([50, 51, 52, 53, 54].map((i) => `Page Skill 0${i}`));
    const a = await get("?limit=5&offset=0");
    const b = await get("?limit=5&offset=5");
    expect(a.body.map((s) => s.name)).toEqual([0, 1, 2, 3, 4].map((i) => `Page Skill 00${i}`));
    expect(b.body.map((s) => s.name)).toEqual([5, 6, 7, 8, 9].map((i) => `Page Skill 00${i}`));
    expect((await get("?offset=100")).body).toEqual([]);
  });
});
