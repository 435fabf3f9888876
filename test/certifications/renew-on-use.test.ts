import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { userSkillsKey } from "../../src/certifications/cache";
import { renewByUse } from "../../src/certifications/use-renewal";
import worker from "../../src/index";
import { buildDeps } from "../../src/platform/deps";
import { auditFor, grant, uniqueUser } from "../helpers/certifications";
import { countingEnv } from "../helpers/counting-d1";
import { envWithD1, hookD1 } from "../helpers/d1-hooks";
import { randomUid, registerBadge } from "../helpers/devices";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { shardDb, shardOf } from "../helpers/shards";
import { admin, device } from "../helpers/tokens";

/**
 * A `renew_on_use` skill: every allowed `verify` on equipment requiring it moves the user's
 * certification to now + N days — off the response path, at most once an hour, audited as
 * `skill_renewed` by `system:use`, with the KV entry rewritten.
 */

function at(instant: number): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(instant));
}

afterEach(() => {
  vi.useRealTimers();
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.parse("2027-05-03T08:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

interface Setup {
  equipmentId: string;
  renewing: string;
  plain: string;
  userId: string;
  certId: string;
}

/** Equipment requiring a renew_on_use skill (30 days) and a plain one; the user holds both, granted at T0. */
async function setup(fields: { days?: number } = {}): Promise<Setup> {
  at(T0);
  const eq = await makeEquipment();
  const renewing = await makeSkill({
    validity: { mode: "renew_on_use", days: fields.days ?? 30 },
    equipment_ids: [eq.id],
  });
  const plain = await makeSkill({ validity: { mode: "duration", days: 365 }, equipment_ids: [eq.id] });
  const userId = uniqueUser("renew");
  const cert = await grant({ user_id: userId, skill_id: renewing.id });
  expect(cert.body.expires_at).toBe(iso(T0 + 30 * DAY));
  await grant({ user_id: userId, skill_id: plain.id });
  return { equipmentId: eq.id, renewing: renewing.id, plain: plain.id, userId, certId: cert.body.id };
}

async function verify(s: Pick<Setup, "equipmentId">, body: Record<string, unknown>, runEnv?: Env) {
  return callJson<{ can_access: boolean }>("POST", `/api/v1/skills/access/equipment/${s.equipmentId}/verify`, {
    token: await device("door-renew"),
    body,
    ...(runEnv ? { env: runEnv } : {}),
  });
}

async function row(certId: string) {
  return (await shardDb("ms-1"))
    .prepare("select status, expires_at, last_use_renewal_at, updated_at from user_skills where id = ?")
    .bind(certId)
    .first<{ status: string; expires_at: string | null; last_use_renewal_at: string | null; updated_at: string }>();
}

async function useRenewals(userId: string) {
  return (await auditFor(userId)).filter((e) => e.action === "skill_renewed" && e.performed_by === "system:use");
}

async function cachedExpiry(userId: string, skillId: string): Promise<string | null | undefined> {
  const entry = await env.USER_SKILLS_CACHE.get<{ certifications: { skill_id: string; expires_at: string | null }[] }>(
    userSkillsKey("ms-1", userId),
    "json",
  );
  return entry?.certifications.find((c) => c.skill_id === skillId)?.expires_at;
}

describe("renewal by use", () => {
  it("an allowed verify moves expires_at to now + N days, audited by system:use; the KV entry follows", async () => {
    const s = await setup();
    const use = T0 + 2 * HOUR;
    at(use);
    const res = await verify(s, { user_id: s.userId });
    expect([res.status, res.body.can_access]).toEqual([200, true]);
    expect(await row(s.certId)).toMatchObject({
      status: "certified",
      expires_at: iso(use + 30 * DAY),
      last_use_renewal_at: iso(use),
      updated_at: iso(use),
    });
    expect(await cachedExpiry(s.userId, s.renewing)).toBe(iso(use + 30 * DAY));
    const events = await useRenewals(s.userId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      skill_id: s.renewing,
      makerspace_id: "ms-1",
      reason: "Renewed by use",
      metadata: {
        user_skill_id: s.certId,
        expires_at: iso(use + 30 * DAY),
        previous_expires_at: iso(T0 + 30 * DAY),
        equipment_id: s.equipmentId,
      },
    });
    const plain = await callJson<{ expires_at: string }[]>(
      "GET",
      `/api/v1/skills/user-skills?user_id=${s.userId}&skill_id=${s.plain}`,
      { token: await admin() },
    );
    expect(plain.body[0]?.expires_at).toBe(iso(T0 + 365 * DAY));
  });

  it("by badge too", async () => {
    const s = await setup();
    const uid = randomUid();
    await registerBadge(uid, s.userId);
    at(T0 + HOUR);
    expect((await verify(s, { badge_uid: uid })).status).toBe(200);
    expect((await row(s.certId))?.expires_at).toBe(iso(T0 + HOUR + 30 * DAY));
    expect(await useRenewals(s.userId)).toHaveLength(1);
  });

  it("the grant itself does not count: a use a minute after it renews", async () => {
    const s = await setup();
    at(T0 + MINUTE);
    await verify(s, { user_id: s.userId });
    expect((await row(s.certId))?.expires_at).toBe(iso(T0 + MINUTE + 30 * DAY));
  });

  it("at most once an hour: uses within the hour write nothing, the first after it renews again", async () => {
    const s = await setup();
    const first = T0 + 10 * MINUTE;
    for (const offset of [0, 1, 30, 59]) {
      at(first + offset * MINUTE);
      expect((await verify(s, { user_id: s.userId })).status).toBe(200);
    }
    expect((await row(s.certId))?.expires_at).toBe(iso(first + 30 * DAY));
    expect(await useRenewals(s.userId)).toHaveLength(1);
    at(first + HOUR);
    await verify(s, { user_id: s.userId });
    expect((await row(s.certId))?.expires_at).toBe(iso(first + HOUR + 30 * DAY));
    expect(await useRenewals(s.userId)).toHaveLength(2);
  });

  it("20 concurrent verifies: one write, one event", async () => {
    const s = await setup();
    at(T0 + 3 * HOUR);
    const { env: counted, counter } = countingEnv();
    const token = await device("door-renew");
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        callJson("POST", `/api/v1/skills/access/equipment/${s.equipmentId}/verify`, {
          token,
          env: counted,
          body: { user_id: s.userId },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(counter.batches).toBe(1);
    expect(await useRenewals(s.userId)).toHaveLength(1);
    expect((await row(s.certId))?.expires_at).toBe(iso(T0 + 3 * HOUR + 30 * DAY));
  });

  it("the SQL guard alone lets one of 20 concurrent renewals write (as from 20 isolates)", async () => {
    const s = await setup();
    const now = new Date(T0 + 5 * HOUR);
    const due = [{ userSkillId: s.certId, skillId: s.renewing, days: 30, previousExpiresAt: iso(T0 + 30 * DAY) }];
    const use = { userId: s.userId, makerspaceId: "ms-1", equipmentId: s.equipmentId };
    // On the makerspace's shard, as the verify's own deps are.
    const shard = (await shardOf("ms-1")) ?? "SHARD_0";
    const renewed = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const ctx = createExecutionContext();
        const n = await renewByUse(buildDeps(env, ctx, `renew-race-${i}`, { now, shard }), use, due);
        await waitOnExecutionContext(ctx);
        return n;
      }),
    );
    expect(renewed.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await useRenewals(s.userId)).toHaveLength(1);
    expect((await row(s.certId))?.last_use_renewal_at).toBe(now.toISOString());
  });

  it("never delays the verify response: the door is answered while the write is held back", async () => {
    const s = await setup();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = envWithD1((db, name) =>
      name === "DIRECTORY"
        ? db
        : hookD1(db, {
            batch: async (target, statements) => {
              await gate;
              return target.batch(statements);
            },
          }),
    );
    at(T0 + 4 * HOUR);
    const token = await device("door-renew");
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`http://localhost/api/v1/skills/access/equipment/${s.equipmentId}/verify`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ user_id: s.userId }),
      }),
      held,
      ctx,
    );
    expect(res.status).toBe(200);
    expect((await row(s.certId))?.expires_at).toBe(iso(T0 + 30 * DAY));
    release();
    await waitOnExecutionContext(ctx);
    expect((await row(s.certId))?.expires_at).toBe(iso(T0 + 4 * HOUR + 30 * DAY));
  });

  it("a failed renewal is logged; the verify's answer stands", async () => {
    const s = await setup();
    const logs = captureLogs();
    const failing = envWithD1((db, name) =>
      name === "DIRECTORY"
        ? db
        : hookD1(db, {
            batch: async () => {
              throw new Error("D1_ERROR: database unavailable (injected)");
            },
          }),
    );
    at(T0 + HOUR);
    expect((await verify(s, { user_id: s.userId }, failing)).status).toBe(200);
    expect(logs.messages("warn")).toContain("renewal by use failed");
    expect((await row(s.certId))?.expires_at).toBe(iso(T0 + 30 * DAY));
  });

  it("a denied verify renews nothing", async () => {
    const s = await setup();
    const stranger = uniqueUser("renew");
    at(T0);
    await grant({ user_id: stranger, skill_id: s.renewing });
    at(T0 + HOUR);
    expect((await verify(s, { user_id: stranger })).status).toBe(403);
    expect(await useRenewals(stranger)).toHaveLength(0);
  });

  it("revoked and expired certifications are never renewed, even where the door opens anyway", async () => {
    const s = await setup();
    const open = envWith({ EQUIPMENT_SKILL_ENFORCEMENT: "false" });
    const expiredUser = uniqueUser("renew");
    const revokedUser = uniqueUser("renew");
    const expired = await seedCertification({
      user_id: expiredUser,
      skill_id: s.renewing,
      expires_at: iso(T0 - DAY),
    });
    const revoked = await seedCertification({
      user_id: revokedUser,
      skill_id: s.renewing,
      status: "revoked",
      expires_at: iso(T0 + DAY),
    });
    at(T0 + HOUR);
    for (const userId of [expiredUser, revokedUser]) {
      const res = await verify(s, { user_id: userId }, open);
      expect([res.status, res.body.can_access]).toEqual([200, true]);
      expect(await useRenewals(userId)).toHaveLength(0);
    }
    expect((await row(expired))?.expires_at).toBe(iso(T0 - DAY));
    expect((await row(revoked))?.expires_at).toBe(iso(T0 + DAY));

    // Revoked between the verify's read and the write: the guard refuses it.
    const racing = { userSkillId: s.certId, skillId: s.renewing, days: 30, previousExpiresAt: iso(T0 + 30 * DAY) };
    const revoke = await callJson("POST", `/api/v1/skills/user-skills/${s.certId}/revoke`, { token: await admin() });
    expect(revoke.status).toBe(200);
    const ctx = createExecutionContext();
    const use = { userId: s.userId, makerspaceId: "ms-1", equipmentId: s.equipmentId };
    expect(await renewByUse(buildDeps(env, ctx, "renew-revoked", { now: new Date(T0 + HOUR) }), use, [racing])).toBe(0);
  });

  it("a use never shortens a certification, nor touches one that never expires", async () => {
    const s = await setup();
    const longer = uniqueUser("renew");
    const forever = uniqueUser("renew");
    at(T0);
    await grant({ user_id: longer, skill_id: s.plain });
    await grant({ user_id: forever, skill_id: s.plain });
    const far = await grant({ user_id: longer, skill_id: s.renewing, expires_at: iso(T0 + 200 * DAY) });
    const never = await seedCertification({ user_id: forever, skill_id: s.renewing, expires_at: null });
    at(T0 + HOUR);
    for (const userId of [longer, forever]) {
      expect((await verify(s, { user_id: userId })).status).toBe(200);
      expect(await useRenewals(userId)).toHaveLength(0);
    }
    expect((await row(far.body.id))?.expires_at).toBe(iso(T0 + 200 * DAY));
    expect((await row(never))?.expires_at).toBeNull();
  });
});
