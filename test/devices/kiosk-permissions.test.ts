import { beforeAll, describe, expect, it } from "vitest";
import { expectError, expectValidation } from "../helpers/assertions";
import { createRequest, grant, type RequestBody, type UserSkillBody, uniqueUser } from "../helpers/certifications";
import { makeEquipment, makeSkill } from "../helpers/factories";
import { call, callJson } from "../helpers/http";
import { admin, device } from "../helpers/tokens";

/**
 * docs/API.md, "Kiosk": a kiosk device reads members' certifications and requests, runs the bulk
 * access check, resolves badges and files requests on a member's behalf; it never grants, revokes,
 * reviews or reads the audit log. Other devices get none of the kiosk extras.
 */
const kiosk = () => device("kiosk-1", "ms-1", "kiosk");
const door = () => device("door-1", "ms-1", "door");

const BADGE_UID = "04A23B4C5D6E80";
let userId: string;
let certId: string;
let pendingId: string;
let requestable: string;
let heldSkill: string;

beforeAll(async () => {
  userId = uniqueUser("kiosk-member");
  const held = await makeSkill();
  const wanted = await makeSkill();
  const other = await makeSkill();
  heldSkill = held.id;
  requestable = other.id;
  await makeEquipment({ id: `eq-kiosk-${crypto.randomUUID().slice(0, 8)}` });
  const granted = await grant({ user_id: userId, skill_id: held.id });
  expect(granted.status, JSON.stringify(granted.body)).toBe(201);
  certId = granted.body.id;
  const pending = await createRequest({ skill_id: wanted.id, user_id: userId });
  expect(pending.status, JSON.stringify(pending.body)).toBe(201);
  pendingId = pending.body.id;
  const badge = await callJson("POST", "/api/v1/badges", {
    token: await admin(),
    body: { badge_uid: BADGE_UID, user_id: userId, makerspace_id: "ms-1" },
  });
  expect(badge.status, JSON.stringify(badge.body)).toBe(201);
});

describe("kiosk device: allowed calls", () => {
  it("reads a member's certifications, one by id too", async () => {
    const list = await callJson<UserSkillBody[]>("GET", `/api/v1/skills/user-skills?user_id=${userId}`, {
      token: await kiosk(),
    });
    expect(list.status).toBe(200);
    expect(list.body.map((r) => [r.id, r.skill_id, r.status])).toEqual([[certId, heldSkill, "certified"]]);
    const one = await callJson<UserSkillBody>("GET", `/api/v1/skills/user-skills/${certId}`, { token: await kiosk() });
    expect(one.status).toBe(200);
    expect(one.body.user_id).toBe(userId);
  });

  it("reads a member's pending requests, one by id too", async () => {
    const list = await callJson<RequestBody[]>("GET", `/api/v1/skills/requests?user_id=${userId}&status=pending`, {
      token: await kiosk(),
    });
    expect(list.status).toBe(200);
    expect(list.body.map((r) => r.id)).toContain(pendingId);
    const one = await callJson<RequestBody>("GET", `/api/v1/skills/requests/${pendingId}`, { token: await kiosk() });
    expect(one.status).toBe(200);
    expect(one.body.status).toBe("pending");
  });

  it("files a request on a member's behalf: 201 pending for that member; again → 409 request_conflict", async () => {
    const res = await createRequest({ skill_id: requestable, user_id: userId }, { token: await kiosk() });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      user_id: userId,
      skill_id: requestable,
      status: "pending",
      makerspace_id: "ms-1",
    });
    const again = await createRequest({ skill_id: requestable, user_id: userId }, { token: await kiosk() });
    expectError(again, 409, "request_conflict", { existing_request_id: res.body.id });
  });

  it("must name the member when filing a request (422)", async () => {
    const res = await createRequest({ skill_id: requestable }, { token: await kiosk() });
    expectValidation(res, ["user_id"]);
  });

  it("runs the bulk access check and reads equipment and requirements", async () => {
    const bulk = await callJson<{ user_id: string; equipment_access: unknown[] }>(
      "GET",
      `/api/v1/skills/access/equipment?user_id=${userId}`,
      { token: await kiosk() },
    );
    expect(bulk.status).toBe(200);
    expect(bulk.body.user_id).toBe(userId);
    expect(bulk.body.equipment_access.length).toBeGreaterThan(0);
    for (const path of ["/api/v1/equipment", "/api/v1/skills/equipment-requirements", "/api/v1/skills/"]) {
      expect((await call("GET", path, { token: await kiosk() })).status, path).toBe(200);
    }
  });

  it("resolves a badge to its member; an unknown badge is 404 badge_not_found", async () => {
    const res = await callJson("POST", "/api/v1/badges/resolve", {
      token: await kiosk(),
      body: { badge_uid: "04:a2:3b:4c:5d:6e:80" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ user_id: userId });
    const unknown = await callJson("POST", "/api/v1/badges/resolve", {
      token: await kiosk(),
      body: { badge_uid: "DEADBEEF" },
    });
    expectError(unknown, 404, "badge_not_found");
  });
});

describe("kiosk device: forbidden calls (403)", () => {
  const forbidden: [string, string, () => unknown][] = [
    ["POST", "/api/v1/skills/user-skills", () => ({ user_id: userId, skill_id: requestable })],
    ["POST", "/api/v1/skills/user-skills/{cert}/revoke", () => ({ reason: "kiosk" })],
    ["PUT", "/api/v1/skills/requests/{pending}", () => ({ status: "approved" })],
    ["PUT", "/api/v1/skills/requests/{pending}", () => ({ status: "rejected" })],
    ["GET", "/api/v1/skills/audit-logs", () => undefined],
    ["GET", "/api/v1/skills/audit-logs?user_id={user}", () => undefined],
    [
      "POST",
      "/api/v1/skills/",
      () => ({ name: "Kiosk Skill", category: "x", level: "beginner", makerspace_id: "ms-1" }),
    ],
    ["POST", "/api/v1/equipment", () => ({ name: "Kiosk Machine", makerspace_id: "ms-1" })],
    ["GET", "/api/v1/badges", () => undefined],
    ["POST", "/api/v1/badges", () => ({ badge_uid: "0102030405", user_id: userId, makerspace_id: "ms-1" })],
    ["GET", "/api/v1/devices", () => undefined],
    ["POST", "/api/v1/devices", () => ({ name: "Rogue", kind: "kiosk", makerspace_id: "ms-1" })],
  ];
  it.each(forbidden)("%s %s", async (method, template, body) => {
    const path = template.replace("{cert}", certId).replace("{pending}", pendingId).replace("{user}", userId);
    expectError(await callJson(method, path, { token: await kiosk(), body: body() }), 403, "forbidden");
  });

  it("leaves the certification and the request untouched", async () => {
    const cert = await callJson<UserSkillBody>("GET", `/api/v1/skills/user-skills/${certId}`, { token: await admin() });
    expect(cert.body.status).toBe("certified");
    const req = await callJson<RequestBody>("GET", `/api/v1/skills/requests/${pendingId}`, { token: await admin() });
    expect(req.body.status).toBe("pending");
  });

  it("cannot read another makerspace's members (403 on the filter)", async () => {
    const res = await callJson("GET", `/api/v1/skills/user-skills?user_id=${userId}&makerspace_id=ms-2`, {
      token: await kiosk(),
    });
    expectError(res, 403, "forbidden");
  });
});

describe("a registered kiosk device (POST /devices) has the same rights", () => {
  it("reads, resolves and requests; may not grant", async () => {
    const reg = await callJson<{ token: string }>("POST", "/api/v1/devices", {
      token: await admin(),
      body: { name: "Front door kiosk", kind: "kiosk", makerspace_id: "ms-1" },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const token = reg.body.token;
    const certs = await callJson("GET", `/api/v1/skills/user-skills?user_id=${userId}`, { token });
    expect(certs.status).toBe(200);
    const resolved = await callJson("POST", "/api/v1/badges/resolve", { token, body: { badge_uid: BADGE_UID } });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toEqual({ user_id: userId });
    const granted = await callJson("POST", "/api/v1/skills/user-skills", {
      token,
      body: { user_id: userId, skill_id: requestable },
    });
    expectError(granted, 403, "forbidden");
  });
});

describe("other devices get none of the kiosk extras", () => {
  it.each([
    ["GET", "/api/v1/skills/user-skills?user_id={user}", undefined],
    ["GET", "/api/v1/skills/requests?user_id={user}", undefined],
    ["POST", "/api/v1/skills/requests", "request"],
    ["POST", "/api/v1/badges/resolve", "badge"],
  ] as const)("door controller: %s %s → 403", async (method, template, kind) => {
    const body =
      kind === "request"
        ? { skill_id: requestable, user_id: userId }
        : kind === "badge"
          ? { badge_uid: BADGE_UID }
          : undefined;
    const res = await callJson(method, template.replace("{user}", userId), { token: await door(), body });
    expectError(res, 403, "forbidden");
  });
});
