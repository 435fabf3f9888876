import { describe, expect, it } from "vitest";
import { cellState } from "../../src/console-support/matrix";
import { expectError } from "../helpers/assertions";
import { createRequest, grant, uniqueUser } from "../helpers/certifications";
import { countingEnv } from "../helpers/counting-d1";
import { makeSkill, seedCertification, uniqueName } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin, member, superAdmin } from "../helpers/tokens";

interface Cell {
  state: string;
  user_skill_id: string | null;
  request_id: string | null;
  expires_at: string | null;
}
interface MatrixBody {
  makerspace_id: string;
  skills: { id: string; name: string; category: string }[];
  rows: { user_id: string; display_name: string | null; cells: Record<string, Cell> }[];
  next_cursor: string | null;
}

const DAY = 86_400_000;
const inDays = (d: number) => new Date(Date.now() + d * DAY).toISOString();

async function matrix(query: Record<string, string>, token?: string) {
  const qs = new URLSearchParams(query).toString();
  return callJson<MatrixBody>("GET", `/api/v1/skills/matrix?${qs}`, {
    token: token ?? (await admin(query.makerspace_id ?? "ms-1")),
  });
}

/** A makerspace of its own per test: the matrix lists every member of it. */
const freshMakerspace = () => `ms-matrix-${crypto.randomUUID().slice(0, 8)}`;

describe("GET /skills/matrix", () => {
  it("gives each cell one of the six states, from certifications and pending requests", async () => {
    const ms = freshMakerspace();
    const category = uniqueName("Cat").slice(0, 40);
    const skill = await makeSkill({ makerspace_id: ms, category });
    const other = await makeSkill({ makerspace_id: ms, category });
    const u = {
      certified: uniqueUser("a-cert"),
      expiring: uniqueUser("b-exp"),
      expired: uniqueUser("c-old"),
      revoked: uniqueUser("d-rev"),
      requested: uniqueUser("e-req"),
    };
    const ids: Record<string, string> = {};
    ids.certified = await seedCertification({
      user_id: u.certified,
      skill_id: skill.id,
      makerspace_id: ms,
      expires_at: inDays(200),
    });
    ids.expiring = await seedCertification({
      user_id: u.expiring,
      skill_id: skill.id,
      makerspace_id: ms,
      expires_at: inDays(10),
    });
    ids.expired = await seedCertification({
      user_id: u.expired,
      skill_id: skill.id,
      makerspace_id: ms,
      expires_at: inDays(-1),
    });
    ids.revoked = await seedCertification({
      user_id: u.revoked,
      skill_id: skill.id,
      makerspace_id: ms,
      status: "revoked",
    });
    const req = await createRequest({ skill_id: skill.id, user_id: u.requested }, { token: await admin(ms) });
    expect(req.status).toBe(201);
    // The requester holds the other skill for good: that cell is certified, with no expiry.
    await seedCertification({ user_id: u.requested, skill_id: other.id, makerspace_id: ms, expires_at: null });

    const res = await matrix({ makerspace_id: ms });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.makerspace_id).toBe(ms);
    expect(res.body.skills.map((s) => s.id).sort()).toEqual([skill.id, other.id].sort());
    expect(res.body.rows.map((r) => r.user_id)).toEqual(Object.values(u).sort());
    const cellOf = (user: string, skillId = skill.id) => res.body.rows.find((r) => r.user_id === user)?.cells[skillId];
    for (const state of ["certified", "expiring", "expired", "revoked"] as const) {
      expect(cellOf(u[state]), state).toMatchObject({ state, user_skill_id: ids[state], request_id: null });
      // Only the cells with something in them are listed: the other skill is `none` for them.
      expect(cellOf(u[state], other.id), state).toBeUndefined();
    }
    expect(cellOf(u.requested)).toEqual({
      state: "requested",
      user_skill_id: null,
      request_id: req.body.id,
      expires_at: null,
    });
    expect(cellOf(u.requested, other.id)).toMatchObject({ state: "certified", expires_at: null });
    expect(res.body.next_cursor).toBeNull();
  });

  it("decides expiring at exactly 30 days, and a certification in force wins over a pending request", () => {
    const now = new Date("2026-06-01T00:00:00.000Z");
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
    expect(cellState({ status: "certified", expiresAt: at(30 * DAY) }, false, now)).toBe("expiring");
    expect(cellState({ status: "certified", expiresAt: at(30 * DAY + 1) }, false, now)).toBe("certified");
    expect(cellState({ status: "certified", expiresAt: at(1) }, true, now)).toBe("expiring");
    expect(cellState({ status: "certified", expiresAt: at(0) }, false, now)).toBe("expired");
    expect(cellState({ status: "certified", expiresAt: at(0) }, true, now)).toBe("requested");
    expect(cellState({ status: "revoked", expiresAt: null }, true, now)).toBe("requested");
    expect(cellState({ status: "pending", expiresAt: null }, false, now)).toBe("requested");
    expect(cellState({ status: "expired", expiresAt: at(-DAY) }, false, now)).toBe("expired");
    expect(cellState(undefined, false, now)).toBe("none");
  });

  it("pages members by user id with next_cursor, at the limit of 200 and 422 past it", async () => {
    const ms = freshMakerspace();
    const skill = await makeSkill({ makerspace_id: ms });
    const users = Array.from({ length: 5 }, (_, i) => `p-${i}-${crypto.randomUUID().slice(0, 4)}`);
    for (const user of users) await seedCertification({ user_id: user, skill_id: skill.id, makerspace_id: ms });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Awaited<ReturnType<typeof matrix>> = await matrix({
        makerspace_id: ms,
        limit: "2",
        ...(cursor ? { cursor } : {}),
      });
      expect(res.status).toBe(200);
      expect(res.body.rows.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.rows.map((r) => r.user_id));
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...users].sort());
    expect((await matrix({ makerspace_id: ms, limit: "200" })).status).toBe(200);
    const past = await matrix({ makerspace_id: ms, limit: "201" });
    expectError(past, 422, "validation_error", { errors: [expect.objectContaining({ path: "limit" })] });
  });

  it("filters by category, skill and a part of the user id (q at 100 characters; 101 is 422)", async () => {
    const ms = freshMakerspace();
    const cat = uniqueName("Wood").slice(0, 40);
    const wood = await makeSkill({ makerspace_id: ms, category: cat });
    const metal = await makeSkill({ makerspace_id: ms, category: "Metal" });
    const alice = `alice-${crypto.randomUUID().slice(0, 6)}`;
    const bob = `bob-${crypto.randomUUID().slice(0, 6)}`;
    await seedCertification({ user_id: alice, skill_id: wood.id, makerspace_id: ms });
    await seedCertification({ user_id: bob, skill_id: metal.id, makerspace_id: ms });

    const byCategory = await matrix({ makerspace_id: ms, category: cat });
    expect(byCategory.body.skills.map((s) => s.id)).toEqual([wood.id]);
    expect(byCategory.body.rows.map((r) => r.user_id)).toEqual([alice]);
    const bySkill = await matrix({ makerspace_id: ms, skill_id: metal.id });
    expect(bySkill.body.skills.map((s) => s.id)).toEqual([metal.id]);
    expect(bySkill.body.rows.map((r) => r.user_id)).toEqual([bob]);
    const byName = await matrix({ makerspace_id: ms, q: "ALICE" });
    expect(byName.body.rows.map((r) => r.user_id)).toEqual([alice]);
    expect((await matrix({ makerspace_id: ms, q: "a".repeat(100) })).body.rows).toEqual([]);
    expectError(await matrix({ makerspace_id: ms, q: "a".repeat(101) }), 422, "validation_error", {
      errors: [expect.objectContaining({ path: "q" })],
    });
  });

  it("shows an instructor only the skills it instructs, every member's rows of them; a plain member is 403", async () => {
    const ms = freshMakerspace();
    const taught = await makeSkill({ makerspace_id: ms });
    const untaught = await makeSkill({ makerspace_id: ms });
    const trainer = uniqueUser("trainer");
    const put = await callJson("PUT", `/api/v1/skills/${taught.id}/instructors/${trainer}`, { token: await admin(ms) });
    expect(put.status).toBe(201);
    const learner = uniqueUser("learner");
    await seedCertification({ user_id: learner, skill_id: taught.id, makerspace_id: ms });
    await seedCertification({ user_id: uniqueUser("other"), skill_id: untaught.id, makerspace_id: ms });
    const seen = await matrix({}, await member(trainer, ms));
    expect(seen.status, JSON.stringify(seen.body)).toBe(200);
    expect(seen.body.skills.map((s) => s.id)).toEqual([taught.id]);
    expect(seen.body.rows.map((r) => r.user_id)).toEqual([learner]);
    expectError(await matrix({}, await member(uniqueUser("plain"), ms)), 403, "forbidden");
  });

  it("holds a caller to its makerspace (403) and asks a super_admin to name one (422)", async () => {
    expectError(await matrix({ makerspace_id: "ms-2" }, await admin("ms-1")), 403, "forbidden");
    expectError(await matrix({}, await superAdmin()), 422, "validation_error", {
      errors: [expect.objectContaining({ path: "makerspace_id" })],
    });
    const ms = freshMakerspace();
    const skill = await makeSkill({ makerspace_id: ms });
    const user = uniqueUser();
    await grant({ user_id: user, skill_id: skill.id }, { token: await admin(ms) });
    const res = await matrix({ makerspace_id: ms }, await superAdmin());
    expect(res.status).toBe(200);
    expect(res.body.rows.map((r) => r.user_id)).toEqual([user]);
  });

  it("reads a page of 200 members × 100 skills in a few round trips, within D1's limits", async () => {
    const ms = freshMakerspace();
    const skills = [];
    for (let i = 0; i < 100; i++) skills.push(await makeSkill({ makerspace_id: ms, category: `C${i % 5}` }));
    const { shardDb } = await import("../helpers/shards");
    const db = await shardDb(ms);
    const now = new Date().toISOString();
    // 210 members, each certified in every skill: 21,000 rows, inserted set-based.
    await db
      .prepare(
        `with recursive n(i) as (select 0 union all select i + 1 from n where i < 209)
         insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at, certified_by, created_at, updated_at)
         select 'us_seed_' || n.i || '_' || s.value, printf('m-%04d', n.i), s.value, ?1, 'certified', ?2, ?3, 'seed', ?2, ?2
         from n, json_each(?4) s`,
      )
      .bind(ms, now, inDays(100), JSON.stringify(skills.map((s) => s.id)))
      .run();
    const { env: counted, counter } = countingEnv();
    const res = await callJson<MatrixBody>("GET", `/api/v1/skills/matrix?makerspace_id=${ms}&limit=200`, {
      token: await admin(ms),
      env: counted,
    });
    expect(res.status).toBe(200);
    expect(res.body.skills).toHaveLength(100);
    expect(res.body.rows).toHaveLength(200);
    expect(res.body.rows.every((r) => Object.keys(r.cells).length === 100)).toBe(true);
    expect(res.body.next_cursor).toBe("m-0199");
    // Directory, skills, the member page (one batch), the cells (one batch): a handful, not one per member.
    expect(counter.roundTrips).toBeLessThanOrEqual(6);
    expect(counter.maxParams).toBeLessThanOrEqual(100);
    const next = await matrix({ makerspace_id: ms, limit: "200", cursor: "m-0199" });
    expect(next.body.rows.map((r) => r.user_id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `m-${String(200 + i).padStart(4, "0")}`),
    );
    expect(next.body.next_cursor).toBeNull();
  });
});
