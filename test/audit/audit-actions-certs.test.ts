import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/events";
import { audited, deliver, placesOf, queueSpy } from "../helpers/audit";
import { makeEquipment, makeSkill } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin, device, member } from "../helpers/tokens";

const MS = "ms-cert-actions";
const reader = () => admin(MS);

/**
 * Like `audited`, for operations that emit several events (an approval also grants): every event
 * sent is delivered to the consumer and read back through GET /skills/audit-logs.
 */
async function auditedAll(
  op: (env: Env) => Promise<{ status: number }>,
  expectedStatus: number,
): Promise<Record<string, unknown>[]> {
  const spy = queueSpy();
  const res = await op(spy.env);
  expect(res.status).toBe(expectedStatus);
  expect(spy.sent.length).toBeGreaterThan(0);
  for (const e of spy.sent) expect(await placesOf(e.id)).toBe(1);
  const { result, ids } = await deliver(spy.sent);
  expect(result.explicitAcks).toEqual(ids);
  const page = await callJson<{ items: Record<string, unknown>[] }>("GET", "/api/v1/skills/audit-logs?limit=200", {
    token: await reader(),
  });
  return spy.sent.map((e: AuditEvent) => {
    const found = page.body.items.filter((i) => i.id === e.id);
    expect(found).toHaveLength(1);
    return found[0] as Record<string, unknown>;
  });
}

const grant = async (userId: string, skillId: string, runEnv?: Env, extra: Record<string, unknown> = {}) =>
  callJson<{ id: string }>("POST", "/api/v1/skills/user-skills", {
    token: await admin(MS),
    env: runEnv,
    body: { user_id: userId, skill_id: skillId, ...extra },
  });

describe("certification and request events reach the audit log end to end", () => {
  it("skill_granted, with the quiz score in metadata", async () => {
    const skill = await makeSkill({ makerspace_id: MS });
    const item = await audited((e) => grant("u-granted", skill.id, e, { quiz_score: "95%" }), 201, await reader());
    expect(item).toMatchObject({
      action: "skill_granted",
      user_id: "u-granted",
      skill_id: skill.id,
      makerspace_id: MS,
      performed_by: "admin-1",
    });
    expect(JSON.stringify(item.metadata)).toContain("95%");
  });

  it("skill_renewed", async () => {
    const skill = await makeSkill({ makerspace_id: MS });
    await grant("u-renewed", skill.id);
    const item = await audited((e) => grant("u-renewed", skill.id, e), 200, await reader());
    expect(item).toMatchObject({ action: "skill_renewed", user_id: "u-renewed", skill_id: skill.id });
  });

  it("skill_revoked, with the reason", async () => {
    const skill = await makeSkill({ makerspace_id: MS });
    const granted = await grant("u-revoked", skill.id);
    const item = await audited(
      async (e) =>
        callJson("POST", `/api/v1/skills/user-skills/${granted.body.id}/revoke?reason=Safety%20violation`, {
          token: await admin(MS),
          env: e,
        }),
      200,
      await reader(),
    );
    expect(item).toMatchObject({
      action: "skill_revoked",
      user_id: "u-revoked",
      skill_id: skill.id,
      reason: "Safety violation",
    });
  });

  it("request_created", async () => {
    const skill = await makeSkill({ makerspace_id: MS });
    const item = await audited(
      async (e) =>
        callJson("POST", "/api/v1/skills/requests", {
          token: await member("u-requester", MS),
          env: e,
          body: { skill_id: skill.id, reason: "Need to complete project prototype" },
        }),
      201,
      await reader(),
    );
    expect(item).toMatchObject({
      action: "request_created",
      user_id: "u-requester",
      skill_id: skill.id,
      performed_by: "u-requester",
    });
  });

  it("request_approved, together with the skill_granted it causes", async () => {
    const skill = await makeSkill({ makerspace_id: MS });
    const req = await callJson<{ id: string }>("POST", "/api/v1/skills/requests", {
      token: await member("u-approved", MS),
      body: { skill_id: skill.id },
    });
    const items = await auditedAll(
      async (e) =>
        callJson("PUT", `/api/v1/skills/requests/${req.body.id}`, {
          token: await admin(MS),
          env: e,
          body: { status: "approved", notes: "Skill demonstration successful" },
        }),
      200,
    );
    expect(items.map((i) => i.action).sort()).toEqual(["request_approved", "skill_granted"]);
    for (const i of items)
      expect(i).toMatchObject({ user_id: "u-approved", skill_id: skill.id, performed_by: "admin-1" });
  });

  it("request_rejected", async () => {
    const skill = await makeSkill({ makerspace_id: MS });
    const req = await callJson<{ id: string }>("POST", "/api/v1/skills/requests", {
      token: await member("u-rejected", MS),
      body: { skill_id: skill.id },
    });
    const item = await audited(
      async (e) =>
        callJson("PUT", `/api/v1/skills/requests/${req.body.id}`, {
          token: await admin(MS),
          env: e,
          body: { status: "rejected", notes: "Book a safety induction first" },
        }),
      200,
      await reader(),
    );
    expect(item).toMatchObject({ action: "request_rejected", user_id: "u-rejected", skill_id: skill.id });
  });

  it("access_granted and access_denied from verify, with the device as actor", async () => {
    const eq = await makeEquipment({ makerspace_id: MS });
    const skill = await makeSkill({ makerspace_id: MS, equipment_ids: [eq.id] });
    await grant("u-door-ok", skill.id);
    const verify = (userId: string) => async (e: Env) =>
      callJson("POST", `/api/v1/skills/access/equipment/${eq.id}/verify`, {
        token: await device("door-9", MS),
        env: e,
        body: { user_id: userId },
      });
    const ok = await audited(verify("u-door-ok"), 200, await reader(), { viaOutbox: false });
    expect(ok).toMatchObject({
      action: "access_granted",
      user_id: "u-door-ok",
      performed_by: "door-9",
      makerspace_id: MS,
      metadata: expect.objectContaining({ equipment_id: eq.id }),
    });
    const denied = await audited(verify("u-door-no"), 403, await reader(), { viaOutbox: false });
    expect(denied).toMatchObject({
      action: "access_denied",
      user_id: "u-door-no",
      performed_by: "door-9",
      metadata: expect.objectContaining({ equipment_id: eq.id, missing_skills: [skill.name] }),
    });
  });
});
