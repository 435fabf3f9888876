import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../helpers/assertions";
import {
  auditFor,
  createRequest,
  grant,
  type RequestBody,
  type UserSkillBody,
  uniqueUser,
} from "../helpers/certifications";
import { makeSkill, type SkillFixture } from "../helpers/factories";
import { type CallOptions, callJson } from "../helpers/http";
import { admin, device, member, superAdmin } from "../helpers/tokens";

interface InstructorBody {
  user_id: string;
  skill_id: string;
  skill_name: string;
  makerspace_id: string;
  created_at: string;
  created_by: string;
}

const path = (skillId: string, userId?: string) =>
  `/api/v1/skills/${skillId}/instructors${userId === undefined ? "" : `/${encodeURIComponent(userId)}`}`;

async function assign(skillId: string, userId: string, token?: string) {
  return callJson<InstructorBody>("PUT", path(skillId, userId), { token: token ?? (await admin()) });
}

async function unassign(skillId: string, userId: string, token?: string) {
  return callJson("DELETE", path(skillId, userId), { token: token ?? (await admin()) });
}

describe("assigning instructors", () => {
  it("PUT: 201 new, 200 already (unchanged); DELETE: 204, then 404 instructor_not_found; each change audited once", async () => {
    const skill = await makeSkill();
    const trainer = uniqueUser("trainer");
    const first = await assign(skill.id, trainer);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      user_id: trainer,
      skill_id: skill.id,
      skill_name: skill.name,
      makerspace_id: "ms-1",
      created_at: expect.any(String),
      created_by: "admin-1",
    });
    const again = await assign(skill.id, trainer, await admin("ms-1", "admin-2"));
    expect([again.status, again.body]).toEqual([200, first.body]);

    const removed = await unassign(skill.id, trainer);
    expect(removed.status).toBe(204);
    expect(removed.body).toBeNull();
    expectError(await unassign(skill.id, trainer), 404, "instructor_not_found");

    const events = await auditFor(trainer);
    expect(events.map((e) => e.action).sort()).toEqual(["instructor_added", "instructor_removed"]);
    for (const e of events) expect(e).toMatchObject({ skill_id: skill.id, performed_by: "admin-1", user_id: trainer });
  });

  it("racing PUTs create one assignment and one event", async () => {
    const skill = await makeSkill();
    const trainer = uniqueUser("trainer");
    const token = await admin();
    const results = await Promise.all(Array.from({ length: 5 }, () => assign(skill.id, trainer, token)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect((await auditFor(trainer)).map((e) => e.action)).toEqual(["instructor_added"]);
  });

  it("another makerspace's skill is 404 for its admin; a super_admin assigns anywhere", async () => {
    const foreign = await makeSkill({ makerspace_id: "ms-2" });
    expectError(await assign(foreign.id, "x-1"), 404, "skill_not_found");
    expectError(await unassign(foreign.id, "x-1"), 404, "skill_not_found");
    expectError(await assign("skill_missing", "x-1"), 404, "skill_not_found");
    expect((await assign(foreign.id, "x-1", await superAdmin())).status).toBe(201);
  });

  it.each([
    ["member", () => member()],
    ["door", () => device("door-instr")],
    ["kiosk", () => device("kiosk-instr", "ms-1", "kiosk")],
  ])("a %s may not assign or remove (403)", async (_who, tokenOf) => {
    const skill = await makeSkill();
    const token = await tokenOf();
    expectError(await assign(skill.id, "x-1", token), 403, "forbidden");
    expectError(await unassign(skill.id, "x-1", token), 403, "forbidden");
  });
});

describe("reading instructors", () => {
  let skill: SkillFixture;
  let other: SkillFixture;
  let foreign: SkillFixture;
  const trainer = uniqueUser("trainer");
  const second = uniqueUser("trainer");

  beforeAll(async () => {
    skill = await makeSkill({ name: `Bravo ${crypto.randomUUID().slice(0, 6)}` });
    other = await makeSkill({ name: `Alpha ${crypto.randomUUID().slice(0, 6)}` });
    foreign = await makeSkill({ makerspace_id: "ms-2" });
    await assign(skill.id, trainer);
    await assign(skill.id, second);
    await assign(other.id, trainer);
    await assign(foreign.id, trainer, await admin("ms-2"));
  });

  it("GET /skills/{id}/instructors: admins and members of the makerspace, oldest first", async () => {
    for (const token of [await admin(), await member()]) {
      const res = await callJson<InstructorBody[]>("GET", path(skill.id), { token });
      expect(res.status).toBe(200);
      expect(res.body.map((i) => i.user_id)).toEqual([trainer, second]);
    }
    expectError(await callJson("GET", path(foreign.id), { token: await member() }), 404, "skill_not_found");
    expectError(await callJson("GET", path(skill.id), { token: await device("door-instr") }), 403, "forbidden");
  });

  it("GET /instructors/me: the member's skills of its own makerspace, by name, with their validity", async () => {
    const res = await callJson<SkillFixture[]>("GET", "/api/v1/instructors/me", { token: await member(trainer) });
    expect(res.status).toBe(200);
    expect(res.body.map((s) => s.id)).toEqual([other.id, skill.id]);
    expect(res.body[0]?.validity).toEqual({ mode: "duration", days: 365 });
    const none = await callJson<SkillFixture[]>("GET", "/api/v1/instructors/me", { token: await member("nobody-1") });
    expect(none.body).toEqual([]);
    expectError(await callJson("GET", "/api/v1/instructors/me", { token: await admin() }), 403, "forbidden");
  });

  it("GET /instructors?user_id: admins and kiosks see a member's assignments in their makerspace", async () => {
    for (const token of [await admin(), await device("kiosk-instr", "ms-1", "kiosk")]) {
      const res = await callJson<InstructorBody[]>("GET", `/api/v1/instructors?user_id=${trainer}`, { token });
      expect(res.status).toBe(200);
      expect(res.body.map((i) => [i.skill_id, i.skill_name])).toEqual([
        [other.id, other.name],
        [skill.id, skill.name],
      ]);
    }
    const bySkill = await callJson<InstructorBody[]>("GET", `/api/v1/instructors?skill_id=${skill.id}`, {
      token: await admin(),
    });
    expect(bySkill.body.map((i) => i.user_id).sort()).toEqual([trainer, second].sort());
    const kiosk = await device("kiosk-instr", "ms-1", "kiosk");
    expectError(await callJson("GET", "/api/v1/instructors?makerspace_id=ms-2", { token: kiosk }), 403, "forbidden");
    for (const token of [await member(trainer), await device("door-instr")]) {
      expectError(await callJson("GET", `/api/v1/instructors?user_id=${trainer}`, { token }), 403, "forbidden");
    }
  });
});

/**
 * What an instructor's plain member token may do, route by route: for its own skill, for another
 * skill of its makerspace, for a skill of another makerspace, for itself, and after its
 * assignment is removed.
 */
type Case = "own skill" | "other skill" | "other makerspace" | "self" | "removed";

interface Target {
  skill: SkillFixture;
  /** The member the call is about. */
  subject: string;
  makerspace: string;
}

interface RouteCase {
  name: string;
  /** Prepares the row (as an admin of its makerspace) and makes the call with `token`. */
  run: (token: string, t: Target) => Promise<{ status: number; body: unknown }>;
  success: number;
  /** Checks made on the successful call: the instructor is named as the actor. */
  named?: (body: unknown, trainer: string) => void;
  expected: Record<Exclude<Case, "own skill" | "removed">, number>;
}

const adminOf = (t: Target) => admin(t.makerspace);

async function grantAsAdmin(t: Target): Promise<UserSkillBody> {
  const res = await grant({ user_id: t.subject, skill_id: t.skill.id }, { token: await adminOf(t) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function requestAsAdmin(t: Target): Promise<RequestBody> {
  const res = await createRequest({ skill_id: t.skill.id, user_id: t.subject }, { token: await adminOf(t) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const as = (token: string, extra: Omit<CallOptions, "token"> = {}) => ({ token, ...extra });

const WRITE = { "other skill": 403, "other makerspace": 404, self: 403 };
const READ_ONE = { "other skill": 403, "other makerspace": 404, self: 200 };
const READ_LIST = { "other skill": 403, "other makerspace": 403, self: 200 };

const ROUTES: RouteCase[] = [
  {
    name: "grant",
    run: (token, t) =>
      callJson("POST", "/api/v1/skills/user-skills", as(token, { body: { user_id: t.subject, skill_id: t.skill.id } })),
    success: 201,
    named: (body, trainer) => expect(body).toMatchObject({ certified_by: trainer, status: "certified" }),
    expected: WRITE,
  },
  {
    name: "renew",
    run: async (token, t) => {
      await grantAsAdmin(t);
      return callJson(
        "POST",
        "/api/v1/skills/user-skills",
        as(token, { body: { user_id: t.subject, skill_id: t.skill.id } }),
      );
    },
    success: 200,
    named: (body, trainer) => expect(body).toMatchObject({ certified_by: trainer }),
    expected: WRITE,
  },
  {
    name: "revoke",
    run: async (token, t) => {
      const cert = await grantAsAdmin(t);
      return callJson(
        "POST",
        `/api/v1/skills/user-skills/${cert.id}/revoke`,
        as(token, { body: { reason: "unsafe" } }),
      );
    },
    success: 200,
    named: (body) => expect(body).toMatchObject({ status: "revoked" }),
    expected: WRITE,
  },
  {
    name: "approve",
    run: async (token, t) => {
      const req = await requestAsAdmin(t);
      return callJson("PUT", `/api/v1/skills/requests/${req.id}`, as(token, { body: { status: "approved" } }));
    },
    success: 200,
    named: (body, trainer) => expect(body).toMatchObject({ status: "approved", reviewed_by: trainer }),
    expected: WRITE,
  },
  {
    name: "reject",
    run: async (token, t) => {
      const req = await requestAsAdmin(t);
      return callJson("PUT", `/api/v1/skills/requests/${req.id}`, as(token, { body: { status: "rejected" } }));
    },
    success: 200,
    named: (body, trainer) => expect(body).toMatchObject({ status: "rejected", reviewed_by: trainer }),
    expected: WRITE,
  },
  {
    name: "get a certification",
    run: async (token, t) => {
      const cert = await grantAsAdmin(t);
      return callJson("GET", `/api/v1/skills/user-skills/${cert.id}`, as(token));
    },
    success: 200,
    expected: READ_ONE,
  },
  {
    name: "get a request",
    run: async (token, t) => {
      const req = await requestAsAdmin(t);
      return callJson("GET", `/api/v1/skills/requests/${req.id}`, as(token));
    },
    success: 200,
    expected: READ_ONE,
  },
  {
    name: "list certifications by skill",
    run: async (token, t) => {
      const cert = await grantAsAdmin(t);
      const res = await callJson<UserSkillBody[]>(
        "GET",
        `/api/v1/skills/user-skills?skill_id=${t.skill.id}&user_id=${t.subject}`,
        as(token),
      );
      if (res.status === 200) expect(res.body.map((r) => r.id)).toEqual([cert.id]);
      return res;
    },
    success: 200,
    expected: READ_LIST,
  },
  {
    name: "list requests by skill",
    run: async (token, t) => {
      const req = await requestAsAdmin(t);
      const res = await callJson<RequestBody[]>(
        "GET",
        `/api/v1/skills/requests?skill_id=${t.skill.id}&user_id=${t.subject}`,
        as(token),
      );
      if (res.status === 200) expect(res.body.map((r) => r.id)).toEqual([req.id]);
      return res;
    },
    success: 200,
    expected: READ_LIST,
  },
];

describe("the instructor matrix", () => {
  let own: SkillFixture;
  let other: SkillFixture;
  let foreign: SkillFixture;

  beforeAll(async () => {
    own = await makeSkill();
    other = await makeSkill();
    foreign = await makeSkill({ makerspace_id: "ms-2" });
  });

  /** A trainer assigned to `own` only (each case its own, so removals do not interfere). */
  async function trainer(): Promise<{ sub: string; token: string }> {
    const sub = uniqueUser("trainer");
    expect((await assign(own.id, sub)).status).toBe(201);
    return { sub, token: await member(sub) };
  }

  it.each(ROUTES.map((r) => [r.name, r] as const))("%s: own skill → success, naming the instructor", async (_n, r) => {
    const t = await trainer();
    const res = await r.run(t.token, { skill: own, subject: uniqueUser(), makerspace: "ms-1" });
    expect(res.status, JSON.stringify(res.body)).toBe(r.success);
    r.named?.(res.body, t.sub);
  });

  it.each(
    ROUTES.flatMap((r) =>
      (["other skill", "other makerspace", "self"] as const).map((c) => [r.name, c, r.expected[c], r] as const),
    ),
  )("%s: %s → %i", async (_n, c, status, r) => {
    const t = await trainer();
    const target: Target =
      c === "other skill"
        ? { skill: other, subject: uniqueUser(), makerspace: "ms-1" }
        : c === "other makerspace"
          ? { skill: foreign, subject: uniqueUser(), makerspace: "ms-2" }
          : { skill: own, subject: t.sub, makerspace: "ms-1" };
    const res = await r.run(t.token, target);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    if (status === 403) expect(res.body).toMatchObject({ error_type: "forbidden" });
  });

  it.each(ROUTES.map((r) => [r.name, r] as const))("%s: refused on the next call once removed", async (_n, r) => {
    const t = await trainer();
    const before = await r.run(t.token, { skill: own, subject: uniqueUser(), makerspace: "ms-1" });
    expect(before.status).toBe(r.success);
    expect((await unassign(own.id, t.sub)).status).toBe(204);
    const after = await r.run(t.token, { skill: own, subject: uniqueUser(), makerspace: "ms-1" });
    expect([after.status, (after.body as { error_type?: string }).error_type]).toEqual([403, "forbidden"]);
  });

  it("an instructor's events name it as the actor", async () => {
    const t = await trainer();
    const subject = uniqueUser();
    const granted = await callJson<UserSkillBody>(
      "POST",
      "/api/v1/skills/user-skills",
      as(t.token, { body: { user_id: subject, skill_id: own.id } }),
    );
    await callJson("POST", `/api/v1/skills/user-skills/${granted.body.id}/revoke`, as(t.token));
    const events = await auditFor(subject);
    expect(events.map((e) => [e.action, e.performed_by]).sort()).toEqual([
      ["skill_granted", t.sub],
      ["skill_revoked", t.sub],
    ]);
  });

  it("with ?skill_id of its skill an instructor lists every member's rows of it; without, only its own", async () => {
    const t = await trainer();
    const a = uniqueUser();
    const b = uniqueUser();
    await grantAsAdmin({ skill: own, subject: a, makerspace: "ms-1" });
    await grantAsAdmin({ skill: own, subject: b, makerspace: "ms-1" });
    await grantAsAdmin({ skill: other, subject: a, makerspace: "ms-1" });
    const bySkill = await callJson<UserSkillBody[]>("GET", `/api/v1/skills/user-skills?skill_id=${own.id}&limit=200`, {
      token: t.token,
    });
    const users = bySkill.body.map((r) => r.user_id);
    expect(users).toEqual(expect.arrayContaining([a, b]));
    expect(bySkill.body.every((r) => r.skill_id === own.id)).toBe(true);
    const otherSkill = await callJson<UserSkillBody[]>("GET", `/api/v1/skills/user-skills?skill_id=${other.id}`, {
      token: t.token,
    });
    expect(otherSkill.body).toEqual([]);
    const mine = await callJson<UserSkillBody[]>("GET", "/api/v1/skills/user-skills", { token: t.token });
    expect(mine.body).toEqual([]);
  });

  it("the same user id with another makerspace's token gains nothing from its assignment here", async () => {
    const t = await trainer();
    const token = await member(t.sub, "ms-2");
    const res = await callJson(
      "POST",
      "/api/v1/skills/user-skills",
      as(token, { body: { user_id: "y-1", skill_id: own.id } }),
    );
    expectError(res, 403, "forbidden");
    const mine = await callJson("GET", "/api/v1/instructors/me", { token });
    expect(mine.body).toEqual([]);
  });

  it("a member who instructs nothing is refused before validation; an instructor's bad body is a 422", async () => {
    const plain = await member(uniqueUser());
    const bad = { user_id: 42 };
    expectError(await callJson("POST", "/api/v1/skills/user-skills", as(plain, { body: bad })), 403, "forbidden");
    const t = await trainer();
    const res = await callJson("POST", "/api/v1/skills/user-skills", as(t.token, { body: bad }));
    expect(res.status).toBe(422);
  });
});
