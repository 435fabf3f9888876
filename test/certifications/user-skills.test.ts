import { describe, expect, it } from "vitest";
import { expectError, expectValidation } from "../helpers/assertions";
import {
  auditFor,
  cachedSkillIds,
  grant,
  ISO_MS,
  type UserSkillBody,
  uniqueUser,
  userSkillRows,
} from "../helpers/certifications";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { admin, device, member, superAdmin } from "../helpers/tokens";

const DAY = 86_400_000;
const past = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const future = (days: number) => new Date(Date.now() + days * DAY).toISOString();

async function list(query: string, token?: string) {
  return callJson<UserSkillBody[]>("GET", `/api/v1/skills/user-skills${query}`, { token: token ?? (await admin()) });
}

describe("POST /api/v1/skills/user-skills (grant)", () => {
  it("201 with the exact shape, certified_by the caller and a default expiry of ~365 days", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const before = Date.now();
    const res = await grant({ user_id: user, skill_id: skill.id, notes: "Passed practical exam", quiz_score: "95%" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^us_/),
      user_id: user,
      skill_id: skill.id,
      skill_name: skill.name,
      makerspace_id: "ms-1",
      status: "certified",
      certified_at: expect.stringMatching(ISO_MS),
      expires_at: expect.stringMatching(ISO_MS),
      certified_by: "admin-1",
      notes: "Passed practical exam",
      quiz_score: "95%",
      created_at: expect.stringMatching(ISO_MS),
      updated_at: expect.stringMatching(ISO_MS),
    });
    const expiresIn = Date.parse(res.body.expires_at as string) - before;
    expect(Math.abs(expiresIn - 365 * DAY)).toBeLessThan(60_000);
    const got = await callJson("GET", `/api/v1/skills/user-skills/${res.body.id}`, { token: await admin() });
    expect(got.body).toEqual(res.body);
  });

  it("honours SKILL_CERTIFICATION_EXPIRY_DAYS and a numeric quiz score", async () => {
    const skill = await makeSkill();
    const res = await grant(
      { user_id: uniqueUser(), skill_id: skill.id, quiz_score: 88 },
      { env: envWith({ SKILL_CERTIFICATION_EXPIRY_DAYS: "30" }) },
    );
    expect(res.status).toBe(201);
    expect(res.body.quiz_score).toBe("88");
    expect(Math.abs(Date.parse(res.body.expires_at as string) - Date.now() - 30 * DAY)).toBeLessThan(60_000);
  });

  it("renews: 200, same id, new expires_at, one row, audit skill_granted then skill_renewed", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const first = await grant({ user_id: user, skill_id: skill.id, expires_at: future(10) });
    expect(first.status).toBe(201);
    const second = await grant({ user_id: user, skill_id: skill.id }, { token: await admin("ms-1", "admin-2") });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.certified_by).toBe("admin-2");
    expect(Date.parse(second.body.expires_at as string)).toBeGreaterThan(Date.parse(first.body.expires_at as string));
    expect(second.body.created_at).toBe(first.body.created_at);
    expect(await userSkillRows(user, skill.id)).toHaveLength(1);
    const events = await auditFor(user);
    expect(events.map((e) => e.action).sort()).toEqual(["skill_granted", "skill_renewed"]);
    const renewed = events.find((e) => e.action === "skill_renewed");
    expect(renewed).toMatchObject({ skill_id: skill.id, makerspace_id: "ms-1", performed_by: "admin-2" });
    expect(renewed?.metadata.user_skill_id).toBe(first.body.id);
  });

  it("re-granting a revoked certification renews the same row", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const first = await grant({ user_id: user, skill_id: skill.id });
    await callJson("POST", `/api/v1/skills/user-skills/${first.body.id}/revoke`, { token: await admin() });
    const again = await grant({ user_id: user, skill_id: skill.id });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, status: "certified" });
  });

  it("an explicit past expires_at is stored and reads as expired", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const expiresAt = past(3);
    const res = await grant({ user_id: user, skill_id: skill.id, expires_at: expiresAt });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("expired");
    expect(res.body.expires_at).toBe(expiresAt);
  });

  it("status pending is stored without certification dates", async () => {
    const skill = await makeSkill();
    const res = await grant({ user_id: uniqueUser(), skill_id: skill.id, status: "pending" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "pending", certified_at: null, expires_at: null });
  });

  it("409 prerequisites_not_met lists the missing skills by name, then succeeds once they are held", async () => {
    const a = await makeSkill({ name: "Alpha Safety" });
    const b = await makeSkill({ name: "Beta Safety" });
    const skill = await makeSkill({ prerequisite_ids: [a.id, b.id] });
    const user = uniqueUser();
    await seedCertification({ user_id: user, skill_id: b.id, expires_at: past(1) });
    const refused = await grant({ user_id: user, skill_id: skill.id });
    expectError(refused, 409, "prerequisites_not_met", { missing_prerequisites: ["Alpha Safety", "Beta Safety"] });
    expect(await userSkillRows(user, skill.id)).toHaveLength(0);

    expect((await grant({ user_id: user, skill_id: a.id })).status).toBe(201);
    expect((await grant({ user_id: user, skill_id: b.id })).status).toBe(200);
    expect((await grant({ user_id: user, skill_id: skill.id })).status).toBe(201);
  });

  it("a revoked prerequisite does not count", async () => {
    const a = await makeSkill({ name: "Gamma Safety" });
    const skill = await makeSkill({ prerequisite_ids: [a.id] });
    const user = uniqueUser();
    await seedCertification({ user_id: user, skill_id: a.id, status: "revoked" });
    expectError(await grant({ user_id: user, skill_id: skill.id }), 409, "prerequisites_not_met", {
      missing_prerequisites: ["Gamma Safety"],
    });
  });

  it("409 invalid_state for an inactive skill; 404 for an unknown or another makerspace's skill", async () => {
    const inactive = await makeSkill({ status: "inactive" });
    expectError(await grant({ user_id: uniqueUser(), skill_id: inactive.id }), 409, "invalid_state");
    const other = await makeSkill({ makerspace_id: "ms-2" });
    expectError(await grant({ user_id: uniqueUser(), skill_id: other.id }), 404, "skill_not_found");
    expectError(await grant({ user_id: uniqueUser(), skill_id: "skill_nope" }), 404, "skill_not_found");
    const asSuper = await grant({ user_id: uniqueUser(), skill_id: other.id }, { token: await superAdmin() });
    expect(asSuper.status).toBe(201);
    expect(asSuper.body.makerspace_id).toBe("ms-2");
  });

  it("422 for bad bodies", async () => {
    const skill = await makeSkill();
    expectValidation(await grant({}), ["user_id", "skill_id"]);
    expectValidation(await grant({ user_id: "u", skill_id: skill.id, status: "revoked" }), ["status"]);
    expectValidation(await grant({ user_id: "u", skill_id: skill.id, expires_at: "tomorrow" }), ["expires_at"]);
    expectValidation(await grant({ user_id: "u", skill_id: skill.id, quiz_score: "12345678901" }), ["quiz_score"]);
    expectValidation(await grant({ user_id: "u", skill_id: skill.id, notes: "x".repeat(1001) }), ["notes"]);
  });

  it("403 for members, every device (kiosks included)", async () => {
    const skill = await makeSkill();
    const body = { user_id: "user-1", skill_id: skill.id };
    expectError(await grant(body, { token: await member("user-1") }), 403, "forbidden");
    expectError(await grant(body, { token: await device("door-1") }), 403, "forbidden");
    expectError(await grant(body, { token: await device("kiosk-1", "ms-1", "kiosk") }), 403, "forbidden");
  });
});

describe("GET /api/v1/skills/user-skills", () => {
  it("reports the effective status and filters on it", async () => {
    const s1 = await makeSkill();
    const s2 = await makeSkill();
    const user = uniqueUser();
    const expiredId = await seedCertification({ user_id: user, skill_id: s1.id, expires_at: past(1) });
    const validId = await seedCertification({ user_id: user, skill_id: s2.id, expires_at: future(100) });
    const all = await list(`?user_id=${user}`);
    expect(all.status).toBe(200);
    expect(Object.fromEntries(all.body.map((r) => [r.id, r.status]))).toEqual({
      [expiredId]: "expired",
      [validId]: "certified",
    });
    expect((await list(`?user_id=${user}&status=expired`)).body.map((r) => r.id)).toEqual([expiredId]);
    expect((await list(`?user_id=${user}&status=certified`)).body.map((r) => r.id)).toEqual([validId]);
    const one = await callJson<UserSkillBody>("GET", `/api/v1/skills/user-skills/${expiredId}`, {
      token: await admin(),
    });
    expect(one.body.status).toBe("expired");
  });

  it("filters by skill_id, expiring_within_days, and pages", async () => {
    const [s1, s2, s3] = [await makeSkill(), await makeSkill(), await makeSkill()];
    const user = uniqueUser();
    const soon = await seedCertification({ user_id: user, skill_id: s1.id, expires_at: future(5) });
    await seedCertification({ user_id: user, skill_id: s2.id, expires_at: future(200) });
    await seedCertification({ user_id: user, skill_id: s3.id, expires_at: past(2) });
    expect((await list(`?user_id=${user}&expiring_within_days=30`)).body.map((r) => r.id)).toEqual([soon]);
    expect((await list(`?user_id=${user}&skill_id=${s1.id}`)).body.map((r) => r.id)).toEqual([soon]);
    const page1 = await list(`?user_id=${user}&limit=2`);
    const page2 = await list(`?user_id=${user}&limit=2&offset=2`);
    expect(page1.body).toHaveLength(2);
    expect(page2.body).toHaveLength(1);
    expect(new Set([...page1.body, ...page2.body].map((r) => r.id)).size).toBe(3);
  });

  it("answers with a trailing slash too, and /openapi.json documents every route", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const id = await seedCertification({ user_id: user, skill_id: skill.id });
    expect((await list(`/?user_id=${user}`)).body.map((r) => r.id)).toEqual([id]);
    const doc = await callJson<{ paths: Record<string, Record<string, unknown>> }>("GET", "/openapi.json");
    const routes = Object.entries(doc.body.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(routes).toEqual(
      expect.arrayContaining([
        "post /api/v1/skills/user-skills",
        "get /api/v1/skills/user-skills",
        "get /api/v1/skills/user-skills/{id}",
        "post /api/v1/skills/user-skills/{id}/revoke",
        "post /api/v1/skills/requests",
        "get /api/v1/skills/requests",
        "get /api/v1/skills/requests/{id}",
        "put /api/v1/skills/requests/{id}",
      ]),
    );
  });

  it("422 for bad queries", async () => {
    expectValidation(await list("?status=gone"), ["status"]);
    expectValidation(await list("?limit=0"), ["limit"]);
    expectValidation(await list("?limit=201"), ["limit"]);
    expectValidation(await list("?expiring_within_days=-1"), ["expiring_within_days"]);
    expectValidation(await list("?expiring_within_days=soon"), ["expiring_within_days"]);
  });

  it("members read only their own: user_id defaults to sub, another user is 403", async () => {
    const skill = await makeSkill();
    const me = uniqueUser();
    const other = uniqueUser();
    const mine = await seedCertification({ user_id: me, skill_id: skill.id });
    const theirs = await seedCertification({ user_id: other, skill_id: skill.id });
    const token = await member(me);
    expect((await list("", token)).body.map((r) => r.id)).toEqual([mine]);
    expect((await list(`?user_id=${me}`, token)).body.map((r) => r.id)).toEqual([mine]);
    expectError(await list(`?user_id=${other}`, token), 403, "forbidden");
    const own = await callJson("GET", `/api/v1/skills/user-skills/${mine}`, { token });
    expect(own.status).toBe(200);
    expectError(await callJson("GET", `/api/v1/skills/user-skills/${theirs}`, { token }), 403, "forbidden");
  });

  it("tenancy: another makerspace's id is 404, its filter 403, and lists stay in the makerspace", async () => {
    const otherSkill = await makeSkill({ makerspace_id: "ms-2" });
    const user = uniqueUser();
    const foreign = await seedCertification({ user_id: user, skill_id: otherSkill.id, makerspace_id: "ms-2" });
    expectError(
      await callJson("GET", `/api/v1/skills/user-skills/${foreign}`, { token: await admin() }),
      404,
      "user_skill_not_found",
    );
    expectError(await list("?makerspace_id=ms-2"), 403, "forbidden");
    expect((await list(`?user_id=${user}`)).body).toEqual([]);
    expect((await list(`?user_id=${user}`, await superAdmin())).body.map((r) => r.id)).toEqual([foreign]);
    expectError(
      await callJson("GET", "/api/v1/skills/user-skills/us_unknown", { token: await admin() }),
      404,
      "user_skill_not_found",
    );
  });

  it("kiosk devices may read; other devices get 403", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const id = await seedCertification({ user_id: user, skill_id: skill.id });
    const kiosk = await device("kiosk-1", "ms-1", "kiosk");
    expect((await list(`?user_id=${user}`, kiosk)).body.map((r) => r.id)).toEqual([id]);
    expect((await callJson("GET", `/api/v1/skills/user-skills/${id}`, { token: kiosk })).status).toBe(200);
    const door = await device("door-1", "ms-1", "door");
    expectError(await list(`?user_id=${user}`, door), 403, "forbidden");
    expectError(await callJson("GET", `/api/v1/skills/user-skills/${id}`, { token: door }), 403, "forbidden");
    expectError(await list(`?user_id=${user}`, await device("bare-1")), 403, "forbidden");
  });
});

describe("POST /api/v1/skills/user-skills/{id}/revoke", () => {
  const revoke = async (id: string, opts: { query?: string; body?: unknown; token?: string } = {}) =>
    callJson<UserSkillBody>("POST", `/api/v1/skills/user-skills/${id}/revoke${opts.query ?? ""}`, {
      token: opts.token ?? (await admin()),
      body: opts.body,
    });

  it("revokes with a query reason, refreshes the KV entry before answering, and audits it", async () => {
    const keep = await makeSkill();
    const skill = await makeSkill();
    const user = uniqueUser();
    await grant({ user_id: user, skill_id: keep.id });
    const granted = await grant({ user_id: user, skill_id: skill.id });
    expect(await cachedSkillIds(user)).toEqual([keep.id, skill.id].sort());
    const res = await revoke(granted.body.id, { query: "?reason=Safety%20violation" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: granted.body.id, status: "revoked", skill_name: skill.name });
    expect(await cachedSkillIds(user)).toEqual([keep.id]);
    const event = (await auditFor(user)).find((e) => e.action === "skill_revoked");
    expect(event).toMatchObject({ skill_id: skill.id, performed_by: "admin-1", reason: "Safety violation" });
  });

  it("a cached access check right after the revocation is denied", async () => {
    const skill = await makeSkill();
    const machine = await makeEquipment();
    await callJson("PUT", `/api/v1/skills/${skill.id}`, {
      token: await admin(),
      body: { equipment_ids: [machine.id] },
    });
    const user = uniqueUser();
    const granted = await grant({ user_id: user, skill_id: skill.id });
    const check = async () =>
      callJson<{ can_access: boolean }>(
        "GET",
        `/api/v1/skills/access/equipment/${machine.id}?user_id=${user}&consistency=cached`,
        { token: await admin() },
      );
    expect((await check()).body.can_access).toBe(true);
    expect((await revoke(granted.body.id)).status).toBe(200);
    expect((await check()).body.can_access).toBe(false);
    expect((await grant({ user_id: user, skill_id: skill.id })).status).toBe(200);
    expect((await check()).body.can_access).toBe(true);
  });

  it("takes the reason from the body; 409 invalid_state when already revoked (one event)", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const granted = await grant({ user_id: user, skill_id: skill.id });
    expect((await revoke(granted.body.id, { body: { reason: "Lost badge misuse" } })).status).toBe(200);
    expectError(await revoke(granted.body.id), 409, "invalid_state");
    const revoked = (await auditFor(user)).filter((e) => e.action === "skill_revoked");
    expect(revoked).toHaveLength(1);
    expect(revoked[0]?.reason).toBe("Lost badge misuse");
  });

  it("404 for another makerspace's or an unknown id; 403 for members and kiosks; 422 for a long reason", async () => {
    const other = await makeSkill({ makerspace_id: "ms-2" });
    const foreign = await seedCertification({ user_id: uniqueUser(), skill_id: other.id, makerspace_id: "ms-2" });
    expectError(await revoke(foreign), 404, "user_skill_not_found");
    expectError(await revoke("us_unknown"), 404, "user_skill_not_found");
    const skill = await makeSkill();
    const user = uniqueUser();
    const id = await seedCertification({ user_id: user, skill_id: skill.id });
    expectError(await revoke(id, { token: await member(user) }), 403, "forbidden");
    expectError(await revoke(id, { token: await device("kiosk-1", "ms-1", "kiosk") }), 403, "forbidden");
    expectValidation(await revoke(id, { body: { reason: "x".repeat(501) } }), ["reason"]);
  });
});
