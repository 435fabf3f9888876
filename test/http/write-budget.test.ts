import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { userSkillsKey } from "../../src/certifications/cache";
import { clearKvPacing } from "../../src/platform/kv-pacing";
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
import { countingEnv } from "../helpers/counting-d1";
import { envWithD1, hookD1 } from "../helpers/d1-hooks";
import { makeSkill } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { envBeforeNextBatch } from "../helpers/interleave";
import { captureLogs } from "../helpers/logs";
import { coldKvKey } from "../helpers/rate-limited-kv";
import { admin, member } from "../helpers/tokens";

/**
 * The D1 round trips of the certification writes, counted at the binding: a grant is one batch
 * that writes, checks its rules inside, and reads back the answer, the user's certifications (the
 * KV entry is rebuilt from those, not read again) and its audit events. A write of a key this
 * isolate wrote within the second is paced and reads D1 when it goes (kv-write-rate.test.ts), so
 * each counted change here starts with the user's key not written for a while.
 */
async function keyAtRest(user: string): Promise<void> {
  clearKvPacing();
  await coldKvKey(env.USER_SKILLS_CACHE, userSkillsKey("ms-1", user));
}

function counted(vars: Partial<Record<keyof Env, string>> = {}) {
  const { env: counting, counter } = countingEnv();
  return { env: { ...counting, ...vars } as Env, counter };
}

describe("D1 round trips of a write", () => {
  it("a grant: 1, and the KV entry already holds it", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("budget-grant");
    const { env: e, counter } = counted();
    const res = await grant({ user_id: user, skill_id: skill.id }, { env: e });
    expect(res.status).toBe(201);
    expect(counter.roundTrips).toBe(1);
    expect(await cachedSkillIds(user)).toEqual([skill.id]);
  });

  it("a renewal: 1; a revocation: 2 (the row, the batch)", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("budget-renew");
    const first = await grant({ user_id: user, skill_id: skill.id });
    await keyAtRest(user);
    const renewal = counted();
    expect((await grant({ user_id: user, skill_id: skill.id }, { env: renewal.env })).status).toBe(200);
    expect(renewal.counter.roundTrips).toBe(1);
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

  it("a request: 2 (the standing, the batch); its approval: 2 (the request, the batch)", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("budget-review");
    const creation = counted();
    const req = await createRequest({ skill_id: skill.id }, { token: await member(user), env: creation.env });
    expect(req.status).toBe(201);
    expect(creation.counter.roundTrips).toBe(2);
    const approval = counted();
    const res = await review(req.body.id, { status: "approved" }, { env: approval.env });
    expect(res.body).toMatchObject({ status: "approved" });
    expect(approval.counter.roundTrips).toBe(2);
    expect(await cachedSkillIds(user)).toEqual([skill.id]);
  });

  it("an auto-approved request: 1", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("budget-auto");
    const { env: e, counter } = counted({ SKILL_REQUEST_AUTO_APPROVE: "true" });
    const res = await createRequest({ skill_id: skill.id }, { token: await member(user), env: e });
    expect(res.body).toMatchObject({ status: "approved" });
    expect(counter.roundTrips).toBe(1);
  });
});

describe("a grant whose rules keep changing under it", () => {
  /**
   * Around every batch the Worker sends: the prerequisite is revoked just before it and restored
   * just after, so the batch never applies and the read that follows finds every rule holding.
   */
  function envFlippingPrerequisite(rowId: string): Env {
    const setStatus = (db: D1Database, status: string) =>
      db.prepare("update user_skills set status = ? where id = ?").bind(status, rowId).run();
    // Every shard's binding and session: only the member's shard holds the row.
    return envWithD1((db) =>
      hookD1(db, {
        batch: async (target, statements) => {
          await setStatus(target as D1Database, "revoked");
          try {
            return await target.batch(statements);
          } finally {
            await setStatus(target as D1Database, "certified");
          }
        },
      }),
    );
  }

  it("answers 503 unavailable with Retry-After after three attempts, never a 500, and writes nothing", async () => {
    const base = await makeSkill();
    const advanced = await makeSkill({ prerequisite_ids: [base.id] });
    const user = uniqueUser("flipped");
    const prerequisite = await grant({ user_id: user, skill_id: base.id });
    const before = await auditFor(user);
    const logs = captureLogs();
    const res = await grant(
      { user_id: user, skill_id: advanced.id },
      { env: envFlippingPrerequisite(prerequisite.body.id) },
    );
    expectError(res, 503, "unavailable");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(logs.messages()).toEqual(["unavailable", "request failed"]);
    expect(await userSkillRows(user, advanced.id)).toEqual([]);
    expect(await auditFor(user)).toHaveLength(before.length);
  });

  it("an approval under the same conditions: 503 too, and the request stays pending", async () => {
    const base = await makeSkill();
    const advanced = await makeSkill({ prerequisite_ids: [base.id] });
    const user = uniqueUser("flipped-review");
    const prerequisite = await grant({ user_id: user, skill_id: base.id });
    const req = await createRequest({ skill_id: advanced.id, user_id: user });
    const logs = captureLogs();
    const res = await review(
      req.body.id,
      { status: "approved" },
      { env: envFlippingPrerequisite(prerequisite.body.id) },
    );
    expectError(res, 503, "unavailable");
    expect(logs.messages()).toEqual(["unavailable", "request failed"]);
    const after = await callJson<{ status: string }>("GET", `/api/v1/skills/requests/${req.body.id}`, {
      token: await admin(),
    });
    expect(after.body.status).toBe("pending");
  });
});

describe("a grant that meets a concurrent one inside its batch", () => {
  it("renews the row the other wrote: 200, that row's id, one row, the event says renewed", async () => {
    const skill = await makeSkill();
    const user = uniqueUser("upsert");
    const rival = `us_rival_${crypto.randomUUID()}`;
    const res = await grant(
      { user_id: user, skill_id: skill.id },
      {
        env: envBeforeNextBatch((db) => {
          const now = new Date().toISOString();
          return db
            .prepare(
              `insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at,
                 certified_by, created_at, updated_at) values (?, ?, ?, 'ms-1', 'certified', ?, null, 'rival', ?, ?)`,
            )
            .bind(rival, user, skill.id, now, now, now)
            .run();
        }),
      },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: rival, certified_by: "admin-1" });
    expect(await userSkillRows(user, skill.id)).toHaveLength(1);
    const events = await auditFor(user);
    expect(events.map((e) => e.action)).toEqual(["skill_renewed"]);
    expect(events[0]?.metadata).toMatchObject({ user_skill_id: rival });
    expect(events[0]?.makerspace_id).toBe("ms-1");
  });
});
