import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { expectValidation } from "../helpers/assertions";
import { makeSkill } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { shardDb } from "../helpers/shards";
import { admin } from "../helpers/tokens";

/**
 * Lists at their documented maximum of 100 ids are served, one past it is 422: never a 500
 * from D1's 100 bound parameters per statement.
 */
const MS = "ms-param-limits";
const now = new Date().toISOString();

/** `n` equipment rows of MS written straight to D1 (ids `eq-pl-<prefix>-000` …). */
async function seedEquipment(prefix: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `eq-pl-${prefix}-${String(i).padStart(3, "0")}`);
  const db = await shardDb(MS);
  await db.batch(
    ids.map((id) =>
      db
        .prepare(
          "insert into equipment (id, name, makerspace_id, status, created_at, updated_at) values (?, ?, ?, 'available', ?, ?)",
        )
        .bind(id, `Machine ${id}`, MS, now, now),
    ),
  );
  // …and in the directory's equipment index, as a creation through the API claims them.
  await env.DIRECTORY.batch(
    ids.map((id) =>
      env.DIRECTORY.prepare("insert into equipment_index (id, makerspace_id, created_at) values (?, ?, ?)").bind(
        id,
        MS,
        now,
      ),
    ),
  );
  return ids;
}

/** `n` skills of MS written straight to D1. */
async function seedSkills(prefix: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `skill-pl-${prefix}-${String(i).padStart(3, "0")}`);
  const db = await shardDb(MS);
  await db.batch(
    ids.map((id) =>
      db
        .prepare(
          "insert into skills (id, name, category, level, status, makerspace_id, created_at, updated_at) values (?, ?, 'Limits', 'beginner', 'active', ?, ?, ?)",
        )
        .bind(id, `Limit ${id}`, MS, now, now),
    ),
  );
  return ids;
}

let equipment: string[];
let skills: string[];

beforeAll(async () => {
  equipment = await seedEquipment("a", 101);
  skills = await seedSkills("a", 101);
});

async function registerDevice(equipmentIds: string[]) {
  return callJson<{ device: { equipment_ids: string[] } }>("POST", "/api/v1/devices", {
    token: await admin(MS),
    body: { name: "Limits door", kind: "door", makerspace_id: MS, equipment_ids: equipmentIds },
  });
}

describe("POST /devices equipment_ids", () => {
  it.each([99, 100])("%i existing ids: 201 with all of them", async (n) => {
    const res = await registerDevice(equipment.slice(0, n));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.device.equipment_ids).toEqual(equipment.slice(0, n));
  });

  it("100 ids of which some are unknown: 422 naming them", async () => {
    const ids = [...equipment.slice(0, 98), "eq-nope-1", "eq-nope-2"];
    const res = await registerDevice(ids);
    expectValidation(res, ["equipment_ids"]);
    expect(JSON.stringify(res.body)).toContain("eq-nope-1, eq-nope-2");
  });

  it("101 ids: 422", async () => {
    expectValidation(await registerDevice(equipment.slice(0, 101)), ["equipment_ids"]);
  });
});

describe("skills with 100 prerequisites and 100 items", () => {
  it("POST /skills/ with 100 of each: 201 with every link", async () => {
    const skill = await makeSkill({
      makerspace_id: MS,
      prerequisite_ids: skills.slice(0, 100),
      equipment_ids: equipment.slice(0, 100),
    });
    expect(skill.prerequisite_ids).toEqual(skills.slice(0, 100));
    expect(skill.equipment_ids).toEqual(equipment.slice(0, 100));
  });

  it("PUT /skills/{id} replacing both sets with 100 ids: 200", async () => {
    const skill = await makeSkill({ makerspace_id: MS });
    const res = await callJson<{ prerequisite_ids: string[]; equipment_ids: string[] }>(
      "PUT",
      `/api/v1/skills/${skill.id}`,
      {
        token: await admin(MS),
        body: { prerequisite_ids: skills.slice(1, 101), equipment_ids: equipment.slice(1, 101) },
      },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.prerequisite_ids).toEqual(skills.slice(1, 101));
    expect(res.body.equipment_ids).toEqual(equipment.slice(1, 101));
  });

  it("101 prerequisite ids or 101 equipment ids: 422", async () => {
    const token = await admin(MS);
    const create = (body: Record<string, unknown>) =>
      callJson("POST", "/api/v1/skills/", {
        token,
        body: { name: "Too Many", category: "Limits", level: "beginner", makerspace_id: MS, ...body },
      });
    expectValidation(await create({ prerequisite_ids: skills.slice(0, 101) }), ["prerequisite_ids"]);
    expectValidation(await create({ equipment_ids: equipment.slice(0, 101) }), ["equipment_ids"]);
  });
});
