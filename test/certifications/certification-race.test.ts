import { describe, expect, it } from "vitest";
import { expectError } from "../helpers/assertions";
import { auditFor, createRequest, grant, review, uniqueUser, userSkillRows } from "../helpers/certifications";
import { makeSkill } from "../helpers/factories";
import { envBeforeNextBatch } from "../helpers/interleave";
import { countOnEveryShard } from "../helpers/shards";
import { admin, member } from "../helpers/tokens";

const actionsOf = async (user: string) => (await auditFor(user)).map((e) => e.action).sort();

/** A competing certification inserted just before the Worker's first batch. */
function envWithCompetingGrant(userId: string, skillId: string, competingId: string): Env {
  const now = new Date().toISOString();
  return envBeforeNextBatch((db) =>
    db
      .prepare(
        `insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at,
           certified_by, created_at, updated_at) values (?, ?, ?, 'ms-1', 'revoked', ?, null, 'rival', ?, ?)`,
      )
      .bind(competingId, userId, skillId, now, now, now)
      .run(),
  );
}

describe("racing reviews and grants", () => {
  it("two concurrent approvals: one 200, one 409 invalid_state, one certification, one of each event", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const req = await createRequest({ skill_id: skill.id }, { token: await member(user) });
    const [a, b] = await Promise.all([
      review(req.body.id, { status: "approved" }, { token: await admin("ms-1", "admin-a") }),
      review(req.body.id, { status: "approved" }, { token: await admin("ms-1", "admin-b") }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expectError(a.status === 409 ? a : b, 409, "invalid_state");
    const rows = await userSkillRows(user, skill.id);
    expect(rows).toHaveLength(1);
    const winner = a.status === 200 ? a : b;
    expect(rows[0]).toMatchObject({ status: "certified", certified_by: winner.body.reviewed_by });
    expect(await actionsOf(user)).toEqual(["request_approved", "request_created", "skill_granted"]);
  });

  it("approval racing rejection: exactly one review applies", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const req = await createRequest({ skill_id: skill.id, user_id: user });
    const [a, b] = await Promise.all([
      review(req.body.id, { status: "approved" }),
      review(req.body.id, { status: "rejected" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    const rows = await userSkillRows(user, skill.id);
    expect(rows).toHaveLength(winner.body.status === "approved" ? 1 : 0);
    const reviews = (await actionsOf(user)).filter((x) => x === "request_approved" || x === "request_rejected");
    expect(reviews).toEqual([winner.body.status === "approved" ? "request_approved" : "request_rejected"]);
  });

  it("two concurrent grants of the same skill: one row (201 and 200)", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const results = await Promise.all([
      grant({ user_id: user, skill_id: skill.id }),
      grant({ user_id: user, skill_id: skill.id }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 201]);
    expect(results[0].body.id).toBe(results[1].body.id);
    expect(await userSkillRows(user, skill.id)).toHaveLength(1);
    expect(await actionsOf(user)).toEqual(["skill_granted", "skill_renewed"]);
  });

  it("two concurrent requests: one 201, one 409 request_conflict naming it, one pending row", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const token = await member(user);
    const results = await Promise.all([
      createRequest({ skill_id: skill.id }, { token }),
      createRequest({ skill_id: skill.id }, { token }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const created = results.find((r) => r.status === 201);
    const refused = results.find((r) => r.status === 409);
    expectError(refused as NonNullable<typeof refused>, 409, "request_conflict", {
      existing_request_id: created?.body.id,
    });
    const pending = await countOnEveryShard(
      "select count(*) as n from skill_requests where user_id = ? and skill_id = ? and status = 'pending'",
      user,
      skill.id,
    );
    expect(pending).toBe(1);
  });

  it("a grant that loses the insert race renews the row that won (200, no stray event)", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const rival = `us_rival_${crypto.randomUUID()}`;
    const res = await grant(
      { user_id: user, skill_id: skill.id },
      { env: envWithCompetingGrant(user, skill.id, rival) },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: rival, status: "certified", certified_by: "admin-1" });
    expect(await userSkillRows(user, skill.id)).toHaveLength(1);
    expect(await actionsOf(user)).toEqual(["skill_renewed"]);
  });

  it("an approval that loses the insert race still approves once, renewing the winner's row", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const req = await createRequest({ skill_id: skill.id, user_id: user });
    const rival = `us_rival_${crypto.randomUUID()}`;
    const res = await review(
      req.body.id,
      { status: "approved" },
      { env: envWithCompetingGrant(user, skill.id, rival) },
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("approved");
    const rows = await userSkillRows(user, skill.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: rival, status: "certified" });
    expect(await actionsOf(user)).toEqual(["request_approved", "request_created", "skill_renewed"]);
  });
});
