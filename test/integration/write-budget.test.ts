import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clearKvPacing } from "../../src/cache/kv-pacing";
import { userSkillsKey } from "../../src/cache/user-skills";
import { expectError } from "../helpers/assertions";
import {
  auditFor,
  cachedSkillIds,
  createRequest,
  grant,
  review,
  uniqueUser,
  userSkillRows,
} from "../helpers/certifications";
import { countingD1 } from "../helpers/counting-d1";
import { makeSkill } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { coldKvKey } from "../helpers/rate-limited-kv";
import { admin, member } from "../helpers/tokens";

/**
 * The D1 round trips of the certification writes, counted at the binding: one read of the skill
 * and the user's standing, one batch that writes and reads back the answer and the user's
 * certifications (the KV entry is rebuilt from those, not read again). A write of a key this
 * isolate wrote within the second is paced and reads D1 when it goes (kv-write-rate.test.ts), so
 * each counted change here starts with the user's key not written for a while.
 */
async function keyAtRest(user: string): Promise<void> {
  clearKvPacing();
  await coldKvKey(env.USER_SKILLS_CACHE, userSkillsKey(user));
}

function counted(vars: Partial<Record<keyof Env, string>> = {}) {
  const { db, counter } = countingD1();
  return { env: { ...env, ...vars, DB: db } as Env, counter };
}

describe("D1 round trips of a write", () => {
  it("a grant: 2, and the KV entry already holds it", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("budget-grant");
    const { env: e, counter } = counted();
    const res = await grant({ user_id: user, skill_id: skill.id }, { env: e });
    expect(res.status).toBe(201);
    expect(counter.roundTrips).toBe(2);
    expect(await cachedSkillIds(user)).toEqual([skill.id]);
  });

  it("a renewal: 2; a revocation: 2", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("budget-renew");
    const first = await grant({ user_id: user, skill_id: skill.id });
    await keyAtRest(user);
    const renewal = counted();
    expect((await grant({ user_id: user, skill_id: skill.id }, { env: renewal.env })).status).toBe(200);
    expect(renewal.counter.roundTrips).toBe(2);
    await keyAtRest(user);
    const revocation = counted();
    const res = await callJson("POST", `/api/v1/skills/user-skills/${first.body.id}/revoke`, {
      token: await admin(),
      body: { reason: "budget" },
      env: revocation.env,
    });
    expect(res.status).toBe(200);
    expect(revocation.counter.roundTrips).toBe(2);
    expect(await cachedSkillIds(user)).toEqual([]);
  });

  it("a request: 2; its approval: 3 (the request, the standing, the batch)", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("budget-review");
    const creation = counted();
    const req = await createRequest({ skill_id: skill.id }, { token: await member(user), env: creation.env });
    expect(req.status).toBe(201);
    expect(creation.counter.roundTrips).toBe(2);
    const approval = counted();
    const res = await review(req.body.id, { status: "approved" }, { env: approval.env });
    expect(res.body).toMatchObject({ status: "approved" });
    expect(approval.counter.roundTrips).toBe(3);
    expect(await cachedSkillIds(user)).toEqual([skill.id]);
  });

  it("an auto-approved request: 2", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("budget-auto");
    const { env: e, counter } = counted({ SKILL_REQUEST_AUTO_APPROVE: "true" });
    const res = await createRequest({ skill_id: skill.id }, { token: await member(user), env: e });
    expect(res.body).toMatchObject({ status: "approved" });
    expect(counter.roundTrips).toBe(2);
  });
});

describe("a grant that keeps losing races", () => {
  /** Before every batch: a rival row replaces whatever the user holds for the skill. */
  function envWithRivalBeforeEveryBatch(userId: string, skillId: string): Env {
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            const now = new Date().toISOString();
            await target.batch([
              target.prepare("delete from user_skills where user_id = ? and skill_id = ?").bind(userId, skillId),
              target
                .prepare(
                  `insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at,
                     certified_by, created_at, updated_at) values (?, ?, ?, 'ms-1', 'revoked', ?, null, 'rival', ?, ?)`,
                )
                .bind(`us_rival_${crypto.randomUUID()}`, userId, skillId, now, now, now),
            ]);
            return target.batch(statements);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return { ...env, DB: db } as Env;
  }

  it("answers 503 unavailable with Retry-After after three attempts, never a 500, and writes nothing", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("loser");
    const res = await grant(
      { user_id: user, skill_id: skill.id },
      { env: envWithRivalBeforeEveryBatch(user, skill.id) },
    );
    expectError(res, 503, "unavailable");
    expect(res.headers.get("retry-after")).toBe("1");
    const rows = await userSkillRows(user, skill.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ certified_by: "rival", status: "revoked" });
    expect(await auditFor(user)).toEqual([]);
  });

  it("an approval that keeps losing: 503 too, and the request stays pending", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("loser-review");
    const req = await createRequest({ skill_id: skill.id, user_id: user });
    const res = await review(
      req.body.id,
      { status: "approved" },
      { env: envWithRivalBeforeEveryBatch(user, skill.id) },
    );
    expectError(res, 503, "unavailable");
    const after = await callJson<{ status: string }>("GET", `/api/v1/skills/requests/${req.body.id}`, {
      token: await admin(),
    });
    expect(after.body.status).toBe("pending");
  });
});
