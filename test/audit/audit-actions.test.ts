import { describe, expect, it } from "vitest";
import { audited, queueSpy } from "../helpers/audit";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

const MS = "ms-actions";
const readToken = () => admin(MS);

async function createSkill(name: string, runEnv?: Env) {
  return callJson<{ id: string }>("POST", "/api/v1/skills/", {
    token: await admin(MS),
    env: runEnv,
    body: { name, category: "Safety", level: "beginner", makerspace_id: MS },
  });
}

async function createEquipment(name: string, runEnv?: Env) {
  return callJson<{ id: string }>("POST", "/api/v1/equipment", {
    token: await admin(MS),
    env: runEnv,
    body: { name, makerspace_id: MS },
  });
}

describe("every change reaches the audit log end to end", () => {
  it("skill_created", async () => {
    let skillId = "";
    const item = await audited(
      async (e) => {
        const res = await createSkill("Laser Safety", e);
        skillId = res.body.id;
        return res;
      },
      201,
      await readToken(),
    );
    expect(item).toMatchObject({
      action: "skill_created",
      skill_id: skillId,
      user_id: null,
      makerspace_id: MS,
      performed_by: "admin-1",
      metadata: expect.objectContaining({ name: "Laser Safety" }),
    });
  });

  it("skill_updated", async () => {
    const skill = await createSkill("Lathe Basics");
    const item = await audited(
      async (e) =>
        callJson("PUT", `/api/v1/skills/${skill.body.id}`, {
          token: await admin(MS),
          env: e,
          body: { name: "Lathe Fundamentals" },
        }),
      200,
      await readToken(),
    );
    expect(item).toMatchObject({
      action: "skill_updated",
      skill_id: skill.body.id,
      makerspace_id: MS,
      performed_by: "admin-1",
      metadata: expect.objectContaining({ changed_fields: expect.arrayContaining(["name"]) }),
    });
  });

  it("equipment_created", async () => {
    let equipmentId = "";
    const item = await audited(
      async (e) => {
        const res = await createEquipment("Laser Cutter", e);
        equipmentId = res.body.id;
        return res;
      },
      201,
      await readToken(),
    );
    expect(item).toMatchObject({
      action: "equipment_created",
      makerspace_id: MS,
      performed_by: "admin-1",
      metadata: expect.objectContaining({ equipment_id: equipmentId }),
    });
  });

  it("equipment_updated", async () => {
    const created = await createEquipment("3D Printer");
    const item = await audited(
      async (e) =>
        callJson("PUT", `/api/v1/equipment/${created.body.id}`, {
          token: await admin(MS),
          env: e,
          body: { status: "maintenance" },
        }),
      200,
      await readToken(),
    );
    expect(item).toMatchObject({
      action: "equipment_updated",
      makerspace_id: MS,
      performed_by: "admin-1",
      metadata: expect.objectContaining({
        equipment_id: created.body.id,
        status_from: "available",
        status_to: "maintenance",
      }),
    });
  });

  it("a refused change leaves no event", async () => {
    await createSkill("Duplicate Name");
    const spy = queueSpy();
    const res = await createSkill("duplicate name", spy.env);
    expect(res.status).toBe(409);
    expect(spy.sent).toEqual([]);
  });
});
