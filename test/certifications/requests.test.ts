import { describe, expect, it } from "vitest";
import { expectError, expectValidation } from "../helpers/assertions";
import {
  auditFor,
  cachedSkillIds,
  createRequest,
  grant,
  ISO_MS,
  type RequestBody,
  review,
  type UserSkillBody,
  uniqueUser,
  userSkillRows,
} from "../helpers/certifications";
import { makeSkill, seedCertification } from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { admin, device, member, superAdmin } from "../helpers/tokens";

const DAY = 86_400_000;
const autoApprove = () => envWith({ SKILL_REQUEST_AUTO_APPROVE: "true" });

async function userSkillsOf(userId: string) {
  return (
    await callJson<UserSkillBody[]>("GET", `/api/v1/skills/user-skills?user_id=${userId}`, { token: await admin() })
  ).body;
}

describe("POST /api/v1/skills/requests", () => {
  it("a member requests for itself: 201 with the exact shape, audited request_created", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const res = await createRequest(
      { skill_id: skill.id, reason: "Need to complete project prototype", notes: "Available next week" },
      { token: await member(user) },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^req_/),
      user_id: user,
      skill_id: skill.id,
      skill_name: skill.name,
      makerspace_id: "ms-1",
      status: "pending",
      reason: "Need to complete project prototype",
      notes: "Available next week",
      reviewed_by: null,
      reviewed_at: null,
      created_at: expect.stringMatching(ISO_MS),
      updated_at: expect.stringMatching(ISO_MS),
    });
    const got = await callJson("GET", `/api/v1/skills/requests/${res.body.id}`, { token: await member(user) });
    expect(got.body).toEqual(res.body);
    const events = await auditFor(user);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "request_created",
      skill_id: skill.id,
      performed_by: user,
      reason: "Need to complete project prototype",
    });
  });

  it("admins request for a user_id; kiosks on a member's behalf (user_id required)", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const byAdmin = await createRequest({ skill_id: skill.id, user_id: user });
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body.user_id).toBe(user);
    const kiosk = await device("kiosk-1", "ms-1", "kiosk");
    const other = uniqueUser();
    const byKiosk = await createRequest({ skill_id: skill.id, user_id: other }, { token: kiosk });
    expect(byKiosk.status).toBe(201);
    expect(byKiosk.body.user_id).toBe(other);
    expectValidation(await createRequest({ skill_id: skill.id }, { token: kiosk }), ["user_id"]);
  });

  it("403 for a member naming another user and for non-kiosk devices", async () => {
    const skill = await makeSkill();
    const me = uniqueUser();
    expectError(
      await createRequest({ skill_id: skill.id, user_id: "someone-else" }, { token: await member(me) }),
      403,
      "forbidden",
    );
    const sameUser = await createRequest({ skill_id: skill.id, user_id: me }, { token: await member(me) });
    expect(sameUser.status).toBe(201);
    const body = { skill_id: skill.id, user_id: uniqueUser() };
    expectError(await createRequest(body, { token: await device("door-1", "ms-1", "door") }), 403, "forbidden");
    expectError(await createRequest(body, { token: await device("bare-1") }), 403, "forbidden");
  });

  it("404 for another makerspace's or an unknown skill; 409 invalid_state for an inactive one", async () => {
    const other = await makeSkill({ makerspace_id: "ms-2" });
    const token = await member(uniqueUser());
    expectError(await createRequest({ skill_id: other.id }, { token }), 404, "skill_not_found");
    expectError(await createRequest({ skill_id: "skill_nope" }, { token }), 404, "skill_not_found");
    const archived = await makeSkill({ status: "archived" });
    expectError(await createRequest({ skill_id: archived.id }, { token }), 409, "invalid_state");
  });

  it("409 request_conflict with existing_request_id while one is pending; allowed again after rejection", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const token = await member(user);
    const first = await createRequest({ skill_id: skill.id }, { token });
    expectError(await createRequest({ skill_id: skill.id }, { token }), 409, "request_conflict", {
      existing_request_id: first.body.id,
    });
    expect((await review(first.body.id, { status: "rejected" })).status).toBe(200);
    expect((await createRequest({ skill_id: skill.id }, { token })).status).toBe(201);
  });

  it("409 already_certified with user_skill_id; an expired certification may be requested again", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const granted = await grant({ user_id: user, skill_id: skill.id });
    expectError(await createRequest({ skill_id: skill.id }, { token: await member(user) }), 409, "already_certified", {
      user_skill_id: granted.body.id,
    });
    const lapsed = await makeSkill();
    await seedCertification({
      user_id: user,
      skill_id: lapsed.id,
      expires_at: new Date(Date.now() - DAY).toISOString(),
    });
    expect((await createRequest({ skill_id: lapsed.id }, { token: await member(user) })).status).toBe(201);
  });

  it("422 for bad bodies", async () => {
    const token = await member(uniqueUser());
    expectValidation(await createRequest({}, { token }), ["skill_id"]);
    expectValidation(await createRequest({ skill_id: "s", reason: "x".repeat(1001) }, { token }), ["reason"]);
    expectValidation(await createRequest({ skill_id: 42 }, { token }), ["skill_id"]);
  });
});

describe("SKILL_REQUEST_AUTO_APPROVE", () => {
  it("true: approved at once, the skill granted, the KV entry lists it, all three events audited", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const res = await createRequest(
      { skill_id: skill.id, reason: "Induction" },
      { token: await member(user), env: autoApprove() },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "approved", reviewed_by: "system:auto-approve" });
    expect(res.body.reviewed_at).toMatch(ISO_MS);
    const held = await userSkillsOf(user);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ skill_id: skill.id, status: "certified", certified_by: "system:auto-approve" });
    expect(await cachedSkillIds(user)).toEqual([skill.id]);
    expect((await auditFor(user)).map((e) => e.action).sort()).toEqual([
      "request_approved",
      "request_created",
      "skill_granted",
    ]);
  });

  it("true but prerequisites missing: stays pending, nothing granted", async () => {
    const pre = await makeSkill();
    const skill = await makeSkill({ prerequisite_ids: [pre.id] });
    const user = uniqueUser();
    const res = await createRequest({ skill_id: skill.id }, { token: await member(user), env: autoApprove() });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("pending");
    expect(await userSkillsOf(user)).toEqual([]);
  });

  it("false (default): stays pending", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const res = await createRequest({ skill_id: skill.id }, { token: await member(user) });
    expect(res.body.status).toBe("pending");
    expect(await userSkillsOf(user)).toEqual([]);
  });
});

describe("PUT /api/v1/skills/requests/{id}", () => {
  it("approval grants the skill with the review's fields, refreshes KV and audits both events", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const req = await createRequest({ skill_id: skill.id, notes: "member note" }, { token: await member(user) });
    const expiresAt = new Date(Date.now() + 90 * DAY).toISOString();
    const res = await review(req.body.id, {
      status: "approved",
      notes: "Skill demonstration successful",
      quiz_score: "92%",
      expires_at: expiresAt,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: req.body.id,
      status: "approved",
      notes: "Skill demonstration successful",
      reviewed_by: "admin-1",
      reviewed_at: expect.stringMatching(ISO_MS),
    });
    const held = await userSkillsOf(user);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({
      skill_id: skill.id,
      status: "certified",
      certified_by: "admin-1",
      quiz_score: "92%",
      notes: "Skill demonstration successful",
      expires_at: expiresAt,
    });
    expect(await cachedSkillIds(user)).toEqual([skill.id]);
    const events = await auditFor(user);
    expect(events.map((e) => e.action).sort()).toEqual(["request_approved", "request_created", "skill_granted"]);
    expect(events.find((e) => e.action === "request_approved")?.metadata).toMatchObject({
      request_id: req.body.id,
      user_skill_id: held[0]?.id,
    });
  });

  it("approval renews an expired certification (same row)", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const old = await seedCertification({
      user_id: user,
      skill_id: skill.id,
      expires_at: new Date(Date.now() - DAY).toISOString(),
    });
    const req = await createRequest({ skill_id: skill.id, user_id: user });
    expect((await review(req.body.id, { status: "approved" })).status).toBe(200);
    const rows = await userSkillRows(user, skill.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: old, status: "certified" });
    expect((await auditFor(user)).map((e) => e.action)).toContain("skill_renewed");
  });

  it("approval with prerequisites missing: 409 prerequisites_not_met and the request stays pending", async () => {
    const pre = await makeSkill({ name: "Workshop Induction" });
    const skill = await makeSkill({ prerequisite_ids: [pre.id] });
    const user = uniqueUser();
    const req = await createRequest({ skill_id: skill.id, user_id: user });
    expectError(await review(req.body.id, { status: "approved" }), 409, "prerequisites_not_met", {
      missing_prerequisites: ["Workshop Induction"],
    });
    const after = await callJson<RequestBody>("GET", `/api/v1/skills/requests/${req.body.id}`, {
      token: await admin(),
    });
    expect(after.body.status).toBe("pending");
    expect(await userSkillsOf(user)).toEqual([]);
    await grant({ user_id: user, skill_id: pre.id });
    expect((await review(req.body.id, { status: "approved" })).status).toBe(200);
  });

  it("rejection: status rejected, no grant, audited request_rejected; then 409 invalid_state for any review", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const req = await createRequest({ skill_id: skill.id, user_id: user });
    const res = await review(req.body.id, { status: "rejected", notes: "Book a session first" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "rejected", notes: "Book a session first", reviewed_by: "admin-1" });
    expect(await userSkillsOf(user)).toEqual([]);
    expect((await auditFor(user)).find((e) => e.action === "request_rejected")).toMatchObject({
      reason: "Book a session first",
      metadata: { request_id: req.body.id },
    });
    expectError(await review(req.body.id, { status: "approved" }), 409, "invalid_state");
    expectError(await review(req.body.id, { status: "rejected" }), 409, "invalid_state");
  });

  it("403 for members and kiosks; 404 for another makerspace's or an unknown request; 422 for bad bodies", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const req = await createRequest({ skill_id: skill.id, user_id: user });
    expectError(await review(req.body.id, { status: "approved" }, { token: await member(user) }), 403, "forbidden");
    expectError(
      await review(req.body.id, { status: "approved" }, { token: await device("kiosk-1", "ms-1", "kiosk") }),
      403,
      "forbidden",
    );
    expectError(
      await review(req.body.id, { status: "approved" }, { token: await admin("ms-2") }),
      404,
      "request_not_found",
    );
    expectError(await review("req_unknown", { status: "approved" }), 404, "request_not_found");
    expectValidation(await review(req.body.id, { status: "pending" }), ["status"]);
    expectValidation(await review(req.body.id, {}), ["status"]);
    expectValidation(await review(req.body.id, { status: "approved", expires_at: "soon" }), ["expires_at"]);
  });
});

describe("GET /api/v1/skills/requests", () => {
  const list = async (query: string, token?: string) =>
    callJson<RequestBody[]>("GET", `/api/v1/skills/requests${query}`, { token: token ?? (await admin()) });

  it("filters by status, user_id and skill_id, and pages", async () => {
    const [a, b] = [await makeSkill(), await makeSkill()];
    const user = uniqueUser();
    const ra = await createRequest({ skill_id: a.id, user_id: user });
    const rb = await createRequest({ skill_id: b.id, user_id: user });
    await review(rb.body.id, { status: "rejected" });
    expect((await list(`?user_id=${user}&status=pending`)).body.map((r) => r.id)).toEqual([ra.body.id]);
    expect((await list(`?user_id=${user}&status=rejected`)).body.map((r) => r.id)).toEqual([rb.body.id]);
    expect((await list(`?user_id=${user}&skill_id=${a.id}`)).body.map((r) => r.id)).toEqual([ra.body.id]);
    expect((await list(`?user_id=${user}&limit=1`)).body).toHaveLength(1);
    expect((await list(`?user_id=${user}&limit=1&offset=1`)).body).toHaveLength(1);
    expectValidation(await list("?status=approvedish"), ["status"]);
    expectValidation(await list("?offset=-1"), ["offset"]);
  });

  it("members see their own only; kiosks their makerspace; other devices 403; tenancy 404/403", async () => {
    const skill = await makeSkill();
    const me = uniqueUser();
    const other = uniqueUser();
    const mine = await createRequest({ skill_id: skill.id }, { token: await member(me) });
    const theirs = await createRequest({ skill_id: skill.id }, { token: await member(other) });
    const token = await member(me);
    expect((await list("", token)).body.map((r) => r.id)).toEqual([mine.body.id]);
    expectError(await list(`?user_id=${other}`, token), 403, "forbidden");
    expectError(await callJson("GET", `/api/v1/skills/requests/${theirs.body.id}`, { token }), 403, "forbidden");

    const kiosk = await device("kiosk-1", "ms-1", "kiosk");
    expect((await list(`?user_id=${other}`, kiosk)).body.map((r) => r.id)).toEqual([theirs.body.id]);
    expect((await callJson("GET", `/api/v1/skills/requests/${theirs.body.id}`, { token: kiosk })).status).toBe(200);
    expectError(await list("", await device("door-1", "ms-1", "door")), 403, "forbidden");

    const foreignSkill = await makeSkill({ makerspace_id: "ms-2" });
    const foreign = await createRequest({ skill_id: foreignSkill.id, user_id: me }, { token: await admin("ms-2") });
    expectError(
      await callJson("GET", `/api/v1/skills/requests/${foreign.body.id}`, { token: await admin() }),
      404,
      "request_not_found",
    );
    expectError(await list("?makerspace_id=ms-2"), 403, "forbidden");
    expect((await list(`?user_id=${me}`, await superAdmin())).body).toHaveLength(2);
  });
});
