import { describe, expect, it } from "vitest";
import type { Skill } from "../../src/catalogue/skills.schemas";
import { expectError, expectValidation } from "../helpers/assertions";
import { envWithD1, hookD1 } from "../helpers/d1-hooks";
import { makeEquipment, makeSkill } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

type SkillBody = Skill;

async function put(id: string, body: unknown, path = `/api/v1/skills/${id}`) {
  return callJson<SkillBody>("PUT", path, { token: await admin(), body });
}

async function get(id: string) {
  return (await callJson<SkillBody>("GET", `/api/v1/skills/${id}`, { token: await admin() })).body;
}

describe("PUT /api/v1/skills/{id}", () => {
  it("changes only the given fields", async () => {
    const skill = await makeSkill({ description: "Original", category: "Wood", level: "beginner" });
    const before = await get(skill.id);
    await new Promise((r) => setTimeout(r, 5));
    const res = await put(skill.id, { level: "advanced" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...before, level: "advanced", updated_at: expect.any(String) });
    expect(res.body.updated_at > before.updated_at).toBe(true);
    expect(res.body.created_at).toBe(before.created_at);
    expect(await get(skill.id)).toEqual(res.body);
  });

  it("updates every editable field; description may be cleared with null", async () => {
    const skill = await makeSkill({ description: "Temp" });
    const res = await put(skill.id, {
      name: "Renamed Skill",
      category: "Electronics",
      level: "expert",
      status: "archived",
      description: null,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "Renamed Skill",
      category: "Electronics",
      level: "expert",
      status: "archived",
      description: null,
    });
  });

  it("prerequisite_ids and equipment_ids replace the sets; omitted sets are kept", async () => {
    const [a, b, c] = [await makeSkill(), await makeSkill(), await makeSkill()];
    const [e1, e2] = [await makeEquipment(), await makeEquipment()];
    const skill = await makeSkill({ prerequisite_ids: [a.id, b.id], equipment_ids: [e1.id] });

    let res = await put(skill.id, { prerequisite_ids: [c.id] });
    expect(res.body.prerequisite_ids).toEqual([c.id]);
    expect(res.body.equipment_ids).toEqual([e1.id]);

    res = await put(skill.id, { equipment_ids: [e2.id, e1.id] });
    expect(res.body.prerequisite_ids).toEqual([c.id]);
    expect(res.body.equipment_ids).toEqual([e1.id, e2.id].sort());

    res = await put(skill.id, { prerequisite_ids: [], equipment_ids: [] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ prerequisite_ids: [], equipment_ids: [] });

    const eq = await callJson<{ required_skill_ids: string[] }>("GET", `/api/v1/equipment/${e1.id}`, {
      token: await admin(),
    });
    expect(eq.body.required_skill_ids).toEqual([]);
  });

  it("works with a trailing slash", async () => {
    const skill = await makeSkill();
    const res = await put(skill.id, { category: "Slash" }, `/api/v1/skills/${skill.id}/`);
    expect(res.status).toBe(200);
    expect(res.body.category).toBe("Slash");
  });

  it.each([
    ["an empty body", {}, ["(root)"]],
    ["makerspace_id", { makerspace_id: "ms-2" }, ["makerspace_id"]],
    ["an invalid name", { name: "Bad/Name" }, ["name"]],
    ["a blank name", { name: "  " }, ["name"]],
    ["category over 50", { category: "c".repeat(51) }, ["category"]],
    ["description over 1000", { description: "d".repeat(1001) }, ["description"]],
    ["an unknown level", { level: "guru" }, ["level"]],
    ["an unknown status", { status: "deleted" }, ["status"]],
  ])("422 for %s", async (_label, body, paths) => {
    const skill = await makeSkill();
    expectValidation(await put(skill.id, body), paths);
    expect(await get(skill.id)).toMatchObject({ name: skill.name });
  });

  it("422 for link ids that are unknown or of another makerspace, leaving the skill as it was", async () => {
    const foreign = await makeSkill({ makerspace_id: "ms-2" });
    const foreignEq = await makeEquipment({ makerspace_id: "ms-2" });
    const pre = await makeSkill();
    const skill = await makeSkill({ prerequisite_ids: [pre.id] });
    expectValidation(await put(skill.id, { prerequisite_ids: ["skill_nope"] }), ["prerequisite_ids"]);
    expectValidation(await put(skill.id, { prerequisite_ids: [foreign.id] }), ["prerequisite_ids"]);
    expectValidation(await put(skill.id, { equipment_ids: [foreignEq.id] }), ["equipment_ids"]);
    expect((await get(skill.id)).prerequisite_ids).toEqual([pre.id]);
  });

  it("404 skill_not_found for an unknown id", async () => {
    expectError(await put("skill_missing", { level: "advanced" }), 404, "skill_not_found");
  });
});

describe("duplicate names on rename", () => {
  it("409 skill_conflict with existing_skill_id, case-insensitively", async () => {
    const a = await makeSkill({ name: "Resin Printing" });
    const b = await makeSkill({ name: "Filament Printing" });
    expectError(await put(b.id, { name: "resin PRINTING" }), 409, "skill_conflict", { existing_skill_id: a.id });
    expect((await get(b.id)).name).toBe("Filament Printing");
  });

  it("a skill may change the case of its own name", async () => {
    const a = await makeSkill({ name: "Vinyl Cutting" });
    const res = await put(a.id, { name: "VINYL cutting" });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe("VINYL cutting");
  });

  it("a name used only in another makerspace is free", async () => {
    await makeSkill({ name: "Glass Blowing", makerspace_id: "ms-2" });
    const mine = await makeSkill();
    expect((await put(mine.id, { name: "Glass Blowing" })).status).toBe(200);
  });
});

/**
 * Another writer takes `name` between the service's duplicate check and its batch: the wrapper
 * inserts that skill straight into D1 just before running the service's batch.
 */
function envWithRacingWriter(winnerId: string, name: string): Env {
  return envWithD1((db, binding) =>
    binding === "DIRECTORY"
      ? db
      : hookD1(db, {
          batch: async (target, statements) => {
            const at = new Date().toISOString();
            await target
              .prepare(
                "insert into skills (id, name, category, level, status, makerspace_id, created_at, updated_at) values (?, ?, 'Race', 'beginner', 'active', 'ms-1', ?, ?)",
              )
              .bind(winnerId, name, at, at)
              .run();
            return target.batch(statements);
          },
        }),
  );
}

describe("a name taken by a concurrent writer", () => {
  it("create: 409 skill_conflict naming the winner, nothing of the loser stored", async () => {
    const res = await callJson("POST", "/api/v1/skills/", {
      token: await admin(),
      env: envWithRacingWriter("skill_race_winner_1", "Race Name One"),
      body: { name: "race name one", category: "Safety", level: "beginner", makerspace_id: "ms-1" },
    });
    expectError(res, 409, "skill_conflict", { existing_skill_id: "skill_race_winner_1" });
    const all = await callJson<SkillBody[]>("GET", "/api/v1/skills?q=race%20name%20one", { token: await admin() });
    expect(all.body.map((s) => s.id)).toEqual(["skill_race_winner_1"]);
  });

  it("rename: 409 skill_conflict naming the winner, the skill unchanged", async () => {
    const skill = await makeSkill();
    const res = await callJson("PUT", `/api/v1/skills/${skill.id}`, {
      token: await admin(),
      env: envWithRacingWriter("skill_race_winner_2", "Race Name Two"),
      body: { name: "Race Name Two", level: "expert" },
    });
    expectError(res, 409, "skill_conflict", { existing_skill_id: "skill_race_winner_2" });
    expect(await get(skill.id)).toMatchObject({ name: skill.name, level: skill.level });
  });
});

describe("prerequisite cycles → 422 prerequisite_cycle", () => {
  it("a skill as its own prerequisite", async () => {
    const a = await makeSkill();
    expectError(await put(a.id, { prerequisite_ids: [a.id] }), 422, "prerequisite_cycle");
    expect((await get(a.id)).prerequisite_ids).toEqual([]);
  });

  it("a 2-cycle (A needs B, B needs A)", async () => {
    const a = await makeSkill();
    const b = await makeSkill({ prerequisite_ids: [a.id] });
    expectError(await put(a.id, { prerequisite_ids: [b.id] }), 422, "prerequisite_cycle");
    expect((await get(a.id)).prerequisite_ids).toEqual([]);
  });

  it("a 3-cycle (A → C → B → A)", async () => {
    const a = await makeSkill();
    const b = await makeSkill({ prerequisite_ids: [a.id] });
    const c = await makeSkill({ prerequisite_ids: [b.id] });
    expectError(await put(a.id, { prerequisite_ids: [c.id] }), 422, "prerequisite_cycle");
    // the cycle is also caught when it comes in with other, harmless ids
    const d = await makeSkill();
    expectError(await put(a.id, { prerequisite_ids: [d.id, c.id] }), 422, "prerequisite_cycle");
    expect((await get(a.id)).prerequisite_ids).toEqual([]);
  });

  it("shared ancestors (a diamond) are not a cycle, and replacing edges can remove one", async () => {
    const base = await makeSkill();
    const left = await makeSkill({ prerequisite_ids: [base.id] });
    const right = await makeSkill({ prerequisite_ids: [base.id] });
    const top = await makeSkill({ prerequisite_ids: [left.id, right.id] });
    expect((await put(top.id, { prerequisite_ids: [left.id, right.id, base.id] })).status).toBe(200);
    // base → top would close base → top → left → base …
    expectError(await put(base.id, { prerequisite_ids: [top.id] }), 422, "prerequisite_cycle");
    // … but not once top no longer depends on base.
    expect((await put(top.id, { prerequisite_ids: [] })).status).toBe(200);
    expect((await put(left.id, { prerequisite_ids: [] })).status).toBe(200);
    expect((await put(right.id, { prerequisite_ids: [] })).status).toBe(200);
    expect((await put(base.id, { prerequisite_ids: [top.id] })).status).toBe(200);
  });
});
