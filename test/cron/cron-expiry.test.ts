import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { userSkillsKey } from "../../src/certifications/cache";
import { expireCertifications } from "../../src/cron/expiry";
import { HOURLY_CRON } from "../../src/cron/scheduled";
import { buildDeps } from "../../src/platform/deps";
import { runCron } from "../helpers/audit";
import { countingEnv } from "../helpers/counting-d1";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { shardDb, shardOf } from "../helpers/shards";
import { admin } from "../helpers/tokens";

const DAY = 86_400_000;

/** Seeds `count` overdue certified rows (3 skills × count/3 users) in one D1 batch. */
async function seedOverdue(makerspace: string, count: number, now: Date): Promise<string[]> {
  const skills = await Promise.all([0, 1, 2].map(() => makeSkill({ makerspace_id: makerspace })));
  const ids: string[] = [];
  const db = await shardDb(makerspace);
  const stmt = db.prepare(
    `insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at, certified_by, created_at, updated_at)
     values (?, ?, ?, ?, 'certified', ?, ?, 'seed', ?, ?)`,
  );
  const created = new Date(now.getTime() - 400 * DAY).toISOString();
  const statements = Array.from({ length: count }, (_, i) => {
    const id = `us_${makerspace}_${i}`;
    ids.push(id);
    const skill = skills[i % 3] as { id: string };
    const expires = new Date(now.getTime() - DAY - i * 1000).toISOString();
    return stmt.bind(
      id,
      `${makerspace}-user-${Math.floor(i / 3)}`,
      skill.id,
      makerspace,
      created,
      expires,
      created,
      created,
    );
  });
  await db.batch(statements);
  return ids;
}

/**
 * The user_skill ids named by skill_expired events of a makerspace, wherever each event is now:
 * still in the outbox, or already written by the consumer (which moves it atomically).
 */
async function expiredEventRefs(makerspace: string): Promise<string[]> {
  const rows = await (await shardDb(makerspace))
    .prepare(
      `select json_extract(payload, '$.metadata.user_skill_id') as ref from audit_outbox
       where json_extract(payload, '$.action') = 'skill_expired' and json_extract(payload, '$.makerspace_id') = ?1
     union all
     select json_extract(metadata, '$.user_skill_id') as ref from skill_audit_logs
       where action = 'skill_expired' and makerspace_id = ?1`,
    )
    .bind(makerspace)
    .all<{ ref: string }>();
  return rows.results.map((r) => r.ref);
}

async function statusCount(makerspace: string, status: string): Promise<number> {
  const db = await shardDb(makerspace);
  const row = await db
    .prepare("select count(*) as n from user_skills where makerspace_id = ? and status = ?")
    .bind(makerspace, status)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function equipmentVersions(makerspace: string): Promise<Map<string, number>> {
  const db = await shardDb(makerspace);
  const rows = await db
    .prepare("select id, allowlist_version as v from equipment where makerspace_id = ?")
    .bind(makerspace)
    .all<{ id: string; v: number }>();
  return new Map(rows.results.map((r) => [r.id, r.v]));
}

/** Deps on the makerspace's shard, as the cron runs there. */
async function deps(now: Date, makerspace: string) {
  const shard = (await shardOf(makerspace)) ?? "SHARD_0";
  return buildDeps(env, createExecutionContext(), `test-${crypto.randomUUID()}`, { now, shard });
}

describe("certification expiry (hourly cron)", () => {
  it("expires 1,200 overdue rows in one run, with exactly one event each, and leaves the rest alone", async () => {
    const ms = "ms-exp-seq";
    const now = new Date();
    const ids = await seedOverdue(ms, 1200, now);
    const skill = await makeSkill({ makerspace_id: ms });
    const db = await shardDb(ms);
    // Rows the cron must leave alone.
    const controls = [
      ["ctl-future", "certified", new Date(now.getTime() + DAY).toISOString()],
      ["ctl-forever", "certified", null],
      ["ctl-revoked", "revoked", new Date(now.getTime() - DAY).toISOString()],
      ["ctl-pending", "pending", new Date(now.getTime() - DAY).toISOString()],
    ] as const;
    for (const [user, status, expires] of controls) {
      await db
        .prepare(
          `insert into user_skills (id, user_id, skill_id, makerspace_id, status, expires_at, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(`us_${user}`, user, skill.id, ms, status, expires, now.toISOString(), now.toISOString())
        .run();
    }

    await runCron(HOURLY_CRON, now);
    expect(await statusCount(ms, "expired")).toBe(1200);
    await runCron(HOURLY_CRON, now);

    const refs = await expiredEventRefs(ms);
    expect(refs).toHaveLength(1200);
    expect(new Set(refs)).toEqual(new Set(ids));

    const row = await db.prepare("select status, updated_at from user_skills where id = ?").bind(ids[0]).first();
    expect(row).toEqual({ status: "expired", updated_at: now.toISOString() });
    for (const [user, status] of controls) {
      const ctl = await db.prepare("select status from user_skills where id = ?").bind(`us_${user}`).first();
      expect(ctl).toEqual({ status });
    }
  });

  it("makes no KV operation: a cached entry still listing an expired certification grants nothing", async () => {
    const ms = "ms-exp-kv";
    const skill = await makeSkill({ makerspace_id: ms });
    const eq = await makeEquipment({ makerspace_id: ms });
    await callJson("PUT", `/api/v1/skills/${skill.id}`, {
      token: await admin(ms),
      body: { equipment_ids: [eq.id] },
    });
    const user = "exp-kv-user";
    await seedCertification({
      user_id: user,
      skill_id: skill.id,
      makerspace_id: ms,
      expires_at: new Date(Date.now() + 1500).toISOString(),
    });
    const path = `/api/v1/skills/access/equipment/${eq.id}?user_id=${user}&consistency=cached`;
    const before = await callJson<{ can_access: boolean }>("GET", path, { token: await admin(ms) });
    expect(before.body.can_access).toBe(true);
    await new Promise((r) => setTimeout(r, 1600));
    const kvOps: string[] = [];
    const kv = new Proxy(env.USER_SKILLS_CACHE, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          kvOps.push(String(prop));
          return value.apply(target, args);
        };
      },
    });
    await runCron(HOURLY_CRON, new Date(), { ...env, USER_SKILLS_CACHE: kv } as Env);
    expect(kvOps).toEqual([]);
    expect(await env.USER_SKILLS_CACHE.get(userSkillsKey(ms, user))).not.toBeNull();
    const after = await callJson<{ can_access: boolean }>("GET", path, { token: await admin(ms) });
    expect(after.body.can_access).toBe(false);
  });

  it("records each expiry as a complete skill_expired event", async () => {
    const ms = "ms-exp-event";
    const now = new Date();
    const [id] = await seedOverdue(ms, 1, now);
    const db = await shardDb(ms);
    const before = await db.prepare("select * from user_skills where id = ?").bind(id).first<Record<string, string>>();
    const summary = await expireCertifications(await deps(now, ms));
    expect(summary).toMatchObject({ expired: 1, more: false });
    const out = await db
      .prepare(
        `select payload from audit_outbox
         where json_extract(payload, '$.makerspace_id') = ?1 and json_extract(payload, '$.action') = 'skill_expired'
       union all select json_object('id', id, 'action', action, 'user_id', user_id, 'skill_id', skill_id,
         'makerspace_id', makerspace_id, 'performed_by', performed_by, 'reason', reason,
         'metadata', json(metadata), 'created_at', created_at) from skill_audit_logs
         where makerspace_id = ?1 and action = 'skill_expired'`,
      )
      .bind(ms)
      .all<{ payload: string }>();
    expect(out.results).toHaveLength(1);
    expect(JSON.parse((out.results[0] as { payload: string }).payload)).toEqual({
      id: expect.stringMatching(/^evt_/),
      action: "skill_expired",
      user_id: before?.user_id,
      skill_id: before?.skill_id,
      makerspace_id: ms,
      performed_by: "system",
      reason: "Certification expired",
      metadata: { user_skill_id: id, expires_at: before?.expires_at },
      created_at: now.toISOString(),
    });
  });

  it("stops on its batch budget and resumes on the next run", async () => {
    const ms = "ms-exp-budget";
    const now = new Date();
    await seedOverdue(ms, 120, now);
    const first = await expireCertifications(await deps(now, ms), { batchSize: 50, maxBatches: 2 });
    expect(first).toMatchObject({ expired: 100, batches: 2, more: true });
    const second = await expireCertifications(await deps(now, ms), { batchSize: 50, maxBatches: 2 });
    expect(second).toMatchObject({ expired: 20, batches: 1, more: false });
    expect(await expiredEventRefs(ms)).toHaveLength(120);
  });

  it("two runs at once create no double events", async () => {
    const ms = "ms-exp-race";
    const now = new Date();
    const ids = await seedOverdue(ms, 1200, now);
    let reported = 0;
    let batches = 0;
    for (let round = 0; round < 3; round += 1) {
      const [a, b] = await Promise.all([
        expireCertifications(await deps(now, ms), { batchSize: 100, maxBatches: 4 }),
        expireCertifications(await deps(now, ms), { batchSize: 100, maxBatches: 4 }),
      ]);
      reported += a.expired + b.expired;
      batches += a.batches + b.batches;
    }
    // Each row is reported by the one run whose batch flipped it…
    expect(reported).toBe(1200);
    // …although the runs overlapped, each working on whatever was left.
    expect(batches).toBeGreaterThanOrEqual(12);
    await Promise.all([runCron(HOURLY_CRON, now), runCron(HOURLY_CRON, now)]);
    expect(await statusCount(ms, "expired")).toBe(1200);
    const refs = await expiredEventRefs(ms);
    expect(refs).toHaveLength(1200);
    expect(new Set(refs)).toEqual(new Set(ids));
  });

  it("keeps up: 100,000 overdue certifications expire in one run, within Workers' per-invocation limits", async () => {
    const ms = "ms-exp-100k";
    const now = new Date();
    const skills = await Promise.all([0, 1, 2, 3, 4].map(() => makeSkill({ makerspace_id: ms })));
    const items = await Promise.all([0, 1].map(() => makeEquipment({ makerspace_id: ms })));
    const untouched = await makeEquipment({ makerspace_id: ms });
    await callJson("PUT", `/api/v1/skills/${skills[0]?.id}`, {
      token: await admin(ms),
      body: { equipment_ids: items.map((i) => i.id) },
    });
    // Seeded set-based: 20,000 members × 5 skills, overdue by 1 s to ~28 h.
    const created = new Date(now.getTime() - 400 * DAY).toISOString();
    const db = await shardDb(ms);
    await db
      .prepare(
        `with recursive n(i) as (select 0 union all select i + 1 from n where i < 99999)
       insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at, certified_by, created_at, updated_at)
       select 'us-100k-' || i, 'm100k-' || (i / 5),
         json_extract(?1, '$[' || (i % 5) || ']'), ?2, 'certified', ?3,
         strftime('%Y-%m-%dT%H:%M:%fZ', ?4, '-' || (1 + i) || ' seconds'), 'seed', ?3, ?3
       from n`,
      )
      .bind(JSON.stringify(skills.map((s) => s.id)), ms, created, now.toISOString())
      .run();
    const versionsBefore = await equipmentVersions(ms);

    const { env: counted, counter } = countingEnv();
    const started = Date.now();
    await runCron(HOURLY_CRON, now, counted);
    const ms100k = Date.now() - started;

    expect(await statusCount(ms, "expired")).toBe(100_000);
    expect(await statusCount(ms, "certified")).toBe(0);
    const events = await db
      .prepare(
        `select count(*) as n, count(distinct json_extract(metadata, '$.user_skill_id')) as refs, count(distinct id) as ids
         from skill_audit_logs where makerspace_id = ? and action = 'skill_expired'`,
      )
      .bind(ms)
      .first<{ n: number; refs: number; ids: number }>();
    expect(events).toEqual({ n: 100_000, refs: 100_000, ids: 100_000 });
    // 20 chunks of 5,000 (3 statements each) and the relay's read: far below 1,000 queries.
    expect(counter.queries).toBeLessThan(100);
    expect(counter.roundTrips).toBeLessThan(40);
    const versionsAfter = await equipmentVersions(ms);
    for (const item of items) expect(versionsAfter.get(item.id)).toBeGreaterThan(versionsBefore.get(item.id) ?? 0);
    expect(versionsAfter.get(untouched.id)).toBe(versionsBefore.get(untouched.id));
    console.info(JSON.stringify({ level: "info", msg: "expiry of 100k", ms: ms100k, queries: counter.queries }));
  }, 180_000);
});
