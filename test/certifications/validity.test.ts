import { afterEach, describe, expect, it, vi } from "vitest";
import { expectError, expectValidation } from "../helpers/assertions";
import {
  auditFor,
  createRequest,
  grant,
  type RequestBody,
  review,
  type UserSkillBody,
  uniqueUser,
} from "../helpers/certifications";
import { makeSkill, type SkillFixture, uniqueName } from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { shardDb } from "../helpers/shards";
import { admin, member } from "../helpers/tokens";

/** Sets this isolate's clock (Date only): tokens minted afterwards carry that time. */
function at(instant: string): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(instant));
}

afterEach(() => {
  vi.useRealTimers();
});

const DAY = 86_400_000;
const NOW = "2027-03-01T12:00:00.000Z";
const plusDays = (days: number) => new Date(Date.parse(NOW) + days * DAY).toISOString();

async function putSkill(id: string, body: unknown) {
  return callJson<SkillFixture>("PUT", `/api/v1/skills/${id}`, { token: await admin(), body });
}

async function postSkill(body: Record<string, unknown>) {
  return callJson<SkillFixture>("POST", "/api/v1/skills/", {
    token: await admin(),
    body: { name: uniqueName(), category: "Safety", level: "beginner", makerspace_id: "ms-1", ...body },
  });
}

async function certificationOf(userId: string, skillId: string): Promise<UserSkillBody> {
  const res = await callJson<UserSkillBody[]>(
    "GET",
    `/api/v1/skills/user-skills?user_id=${userId}&skill_id=${skillId}`,
    { token: await admin() },
  );
  expect(res.body, JSON.stringify(res.body)).toHaveLength(1);
  return res.body[0] as UserSkillBody;
}

describe("validity on skills", () => {
  it("defaults to the configured duration, shown explicitly, and follows the configuration", async () => {
    const skill = await makeSkill();
    expect(skill.validity).toEqual({ mode: "duration", days: 365 });
    const under30 = await callJson<SkillFixture>("GET", `/api/v1/skills/${skill.id}`, {
      token: await admin(),
      env: envWith({ SKILL_CERTIFICATION_EXPIRY_DAYS: "30" }),
    });
    expect(under30.body.validity).toEqual({ mode: "duration", days: 30 });
  });

  it.each([
    { mode: "duration", days: 30 },
    { mode: "never" },
    { mode: "fixed_date", date: "2027-06-30" },
    { mode: "renew_on_use", days: 90 },
  ])("%o is stored and shown on create, get, list and update", async (validity) => {
    const created = await makeSkill({ validity });
    expect(created.validity).toEqual(validity);
    const got = await callJson<SkillFixture>("GET", `/api/v1/skills/${created.id}`, { token: await member() });
    expect(got.body.validity).toEqual(validity);
    const listed = await callJson<SkillFixture[]>("GET", `/api/v1/skills/?q=${encodeURIComponent(created.name)}`, {
      token: await member(),
    });
    expect(listed.body.map((s) => s.validity)).toEqual([validity]);

    const other = await makeSkill();
    const updated = await putSkill(other.id, { validity });
    expect(updated.status).toBe(200);
    expect(updated.body.validity).toEqual(validity);
  });

  it("null on update returns a skill to the configured default; the change is audited", async () => {
    const skill = await makeSkill({ validity: { mode: "never" } });
    const res = await putSkill(skill.id, { validity: null });
    expect(res.status).toBe(200);
    expect(res.body.validity).toEqual({ mode: "duration", days: 365 });
    const events = await (await shardDb("ms-1")).prepare("select payload from audit_outbox").all<{ payload: string }>();
    const updated = events.results
      .map((r) => JSON.parse(r.payload) as { action: string; skill_id: string; metadata: Record<string, unknown> })
      .find((e) => e.action === "skill_updated" && e.skill_id === skill.id);
    expect(updated?.metadata).toMatchObject({ changed_fields: ["validity"], validity: null });
  });

  const BAD: Array<[string, unknown, string, RegExp]> = [
    ["duration without days", { mode: "duration" }, "validity.days", /required with mode duration/],
    ["renew_on_use without days", { mode: "renew_on_use" }, "validity.days", /required with mode renew_on_use/],
    ["never with days", { mode: "never", days: 30 }, "validity.days", /not a field of validity mode never/],
    ["duration with a date", { mode: "duration", days: 30, date: "2027-06-30" }, "validity.date", /mode duration/],
    ["fixed_date with days", { mode: "fixed_date", date: "2027-06-30", days: 3 }, "validity.days", /fixed_date/],
    ["fixed_date without a date", { mode: "fixed_date" }, "validity.date", /YYYY-MM-DD/],
    ["a date in another format", { mode: "fixed_date", date: "30/06/2027" }, "validity.date", /YYYY-MM-DD/],
    ["a date with a time", { mode: "fixed_date", date: "2027-06-30T00:00:00Z" }, "validity.date", /YYYY-MM-DD/],
    ["a day that does not exist", { mode: "fixed_date", date: "2027-02-30" }, "validity.date", /YYYY-MM-DD/],
    ["0 days", { mode: "duration", days: 0 }, "validity.days", /at least 1/],
    ["3651 days", { mode: "renew_on_use", days: 3651 }, "validity.days", /at most 3650/],
    ["a fraction of a day", { mode: "duration", days: 1.5 }, "validity.days", /whole number/],
    ["days as text", { mode: "duration", days: "30" }, "validity.days", /whole number/],
    ["an unknown mode", { mode: "forever" }, "validity.mode", /must be one of duration, never/],
    ["no mode", { days: 30 }, "validity.mode", /must be one of/],
    ["a string", "never", "validity", /./],
  ];

  it.each(BAD)("422 for %s, on create and on update, storing nothing", async (_why, validity, path, message) => {
    const skill = await makeSkill();
    for (const res of [await postSkill({ validity }), await putSkill(skill.id, { validity })]) {
      expectValidation(res, [path]);
      const errors = (res.body as unknown as { errors: { message: string }[] }).errors;
      expect(errors[0]?.message).toMatch(message);
    }
    const got = await callJson<SkillFixture>("GET", `/api/v1/skills/${skill.id}`, { token: await admin() });
    expect(got.body.validity).toEqual({ mode: "duration", days: 365 });
  });

  it("3650 days is the longest duration", async () => {
    expect((await postSkill({ validity: { mode: "duration", days: 3650 } })).status).toBe(201);
  });
});

type Path = "grant" | "renewal" | "approval" | "auto-approval";

/** Certifies `userId` in `skill` the given way at the current (fake) time; returns the certification. */
async function certify(path: Path, skill: SkillFixture, userId: string): Promise<UserSkillBody> {
  switch (path) {
    case "grant": {
      const res = await grant({ user_id: userId, skill_id: skill.id });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    }
    case "renewal": {
      const first = await grant({ user_id: userId, skill_id: skill.id, expires_at: "2027-03-02T00:00:00.000Z" });
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      const res = await grant({ user_id: userId, skill_id: skill.id });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    }
    case "approval": {
      const req = await createRequest({ skill_id: skill.id }, { token: await member(userId) });
      expect(req.status, JSON.stringify(req.body)).toBe(201);
      const res = await review(req.body.id, { status: "approved" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return certificationOf(userId, skill.id);
    }
    case "auto-approval": {
      const req = await createRequest(
        { skill_id: skill.id },
        { token: await member(userId), env: envWith({ SKILL_REQUEST_AUTO_APPROVE: "true" }) },
      );
      expect([req.status, req.body.status], JSON.stringify(req.body)).toEqual([201, "approved"]);
      return certificationOf(userId, skill.id);
    }
  }
}

const PATHS: Path[] = ["grant", "renewal", "approval", "auto-approval"];
const MODES: Array<[string, Record<string, unknown>, string | null]> = [
  ["duration 30", { mode: "duration", days: 30 }, plusDays(30)],
  ["never", { mode: "never" }, null],
  ["fixed_date", { mode: "fixed_date", date: "2027-06-30" }, "2027-06-30T23:59:59.999Z"],
  ["renew_on_use 7", { mode: "renew_on_use", days: 7 }, plusDays(7)],
];

describe("the expiry a certification gets, by mode and by path", () => {
  it.each(
    PATHS.flatMap((path) => MODES.map(([name, validity, expected]) => [path, name, validity, expected] as const)),
  )("%s, %s", async (path, _name, validity, expected) => {
    const skill = await makeSkill({ validity });
    const userId = uniqueUser();
    at(NOW);
    const cert = await certify(path, skill, userId);
    expect(cert).toMatchObject({ status: "certified", certified_at: NOW, expires_at: expected });
    const event = (await auditFor(userId)).find(
      (e) => e.metadata.user_skill_id === cert.id && e.metadata.expires_at !== "2027-03-02T00:00:00.000Z",
    );
    expect(event?.metadata.expires_at).toBe(expected);
  });

  it.each(MODES)("%s: an explicit expires_at wins", async (_name, validity) => {
    const skill = await makeSkill({ validity });
    at(NOW);
    const res = await grant({ user_id: uniqueUser(), skill_id: skill.id, expires_at: "2027-04-01T00:00:00.000Z" });
    expect([res.status, res.body.expires_at]).toEqual([201, "2027-04-01T00:00:00.000Z"]);
  });

  it("a never-expiring certification opens its equipment and reads certified", async () => {
    const eq = await callJson<{ id: string }>("POST", "/api/v1/equipment", {
      token: await admin(),
      body: { name: uniqueName("Machine"), makerspace_id: "ms-1" },
    });
    const skill = await makeSkill({ validity: { mode: "never" }, equipment_ids: [eq.body.id] });
    const userId = uniqueUser();
    expect((await grant({ user_id: userId, skill_id: skill.id })).body.expires_at).toBeNull();
    const check = await callJson<{ can_access: boolean }>(
      "GET",
      `/api/v1/skills/access/equipment/${eq.body.id}?user_id=${userId}&consistency=strong`,
      { token: await admin() },
    );
    expect(check.body.can_access).toBe(true);
  });
});

describe("a fixed date's boundary (the date is inclusive)", () => {
  const fixed = { mode: "fixed_date", date: "2027-06-30" } as const;
  const END = "2027-06-30T23:59:59.999Z";

  it("a grant at the date's last millisecond is accepted, and expires at that instant", async () => {
    const skill = await makeSkill({ validity: fixed });
    at("2027-06-30T23:59:59.998Z");
    const before = await grant({ user_id: uniqueUser(), skill_id: skill.id });
    expect(before.body).toMatchObject({ status: "certified", expires_at: END });
    at(END);
    const last = await grant({ user_id: uniqueUser(), skill_id: skill.id });
    expect(last.status).toBe(201);
    // A certification expiring exactly now is expired: the last millisecond gives nothing to use.
    expect(last.body).toMatchObject({ status: "expired", expires_at: END });
  });

  it("after the date: grant and renewal 409 invalid_state, nothing written", async () => {
    const skill = await makeSkill({ validity: fixed });
    const held = uniqueUser();
    at("2027-06-01T00:00:00.000Z");
    const first = await grant({ user_id: held, skill_id: skill.id });
    at("2027-07-01T00:00:00.000Z");
    const newUser = uniqueUser();
    expectError(await grant({ user_id: newUser, skill_id: skill.id }), 409, "invalid_state");
    expectError(await grant({ user_id: held, skill_id: skill.id }), 409, "invalid_state");
    expect((await auditFor(newUser)).length).toBe(0);
    const row = await certificationOf(held, skill.id);
    expect(row).toMatchObject({ id: first.body.id, updated_at: first.body.updated_at });
  });

  it("after the date: an approval is 409 and the request stays pending; auto-approval files it pending", async () => {
    const skill = await makeSkill({ validity: fixed });
    const userId = uniqueUser();
    at("2027-07-01T00:00:00.000Z");
    const req = await createRequest({ skill_id: skill.id }, { token: await member(userId) });
    expectError(await review(req.body.id, { status: "approved" }), 409, "invalid_state");
    const still = await callJson<RequestBody>("GET", `/api/v1/skills/requests/${req.body.id}`, {
      token: await admin(),
    });
    expect(still.body.status).toBe("pending");

    const other = uniqueUser();
    const auto = await createRequest(
      { skill_id: skill.id },
      { token: await member(other), env: envWith({ SKILL_REQUEST_AUTO_APPROVE: "true" }) },
    );
    expect([auto.status, auto.body.status]).toEqual([201, "pending"]);
    expect((await auditFor(other)).map((e) => e.action)).toEqual(["request_created"]);
  });

  it("after the date: an explicit expires_at still grants and approves; a pending grant needs none", async () => {
    const skill = await makeSkill({ validity: fixed });
    at("2027-07-01T00:00:00.000Z");
    const explicit = await grant({ user_id: uniqueUser(), skill_id: skill.id, expires_at: "2027-09-30T00:00:00Z" });
    expect([explicit.status, explicit.body.expires_at]).toEqual([201, "2027-09-30T00:00:00.000Z"]);
    const userId = uniqueUser();
    const req = await createRequest({ skill_id: skill.id }, { token: await member(userId) });
    const approved = await review(req.body.id, { status: "approved", expires_at: "2027-08-31T23:59:59.999Z" });
    expect(approved.body.status).toBe("approved");
    expect((await certificationOf(userId, skill.id)).expires_at).toBe("2027-08-31T23:59:59.999Z");
    const pending = await grant({ user_id: uniqueUser(), skill_id: skill.id, status: "pending" });
    expect([pending.status, pending.body.expires_at]).toEqual([201, null]);
  });
});

describe("changing a skill's validity", () => {
  it("changes later grants and renewals only", async () => {
    const skill = await makeSkill({ validity: { mode: "duration", days: 30 } });
    const early = uniqueUser();
    at(NOW);
    const first = await grant({ user_id: early, skill_id: skill.id });
    expect(first.body.expires_at).toBe(plusDays(30));
    expect((await putSkill(skill.id, { validity: { mode: "never" } })).status).toBe(200);
    expect((await certificationOf(early, skill.id)).expires_at).toBe(plusDays(30));
    expect((await grant({ user_id: uniqueUser(), skill_id: skill.id })).body.expires_at).toBeNull();
    expect((await grant({ user_id: early, skill_id: skill.id })).body.expires_at).toBeNull();
  });
});
