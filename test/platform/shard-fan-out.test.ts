import { beforeAll, describe, expect, it } from "vitest";
import { clearDirectoryCache } from "../../src/platform/db/directory";
import { auditEvent, deliver } from "../helpers/audit";
import { grant } from "../helpers/certifications";
import { countingEnv } from "../helpers/counting-d1";
import { makeEquipment, makeSkill } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { shardOf } from "../helpers/shards";
import { superAdmin } from "../helpers/tokens";

/**
 * A super_admin's calls that name no makerspace: listings fan out to every shard and merge in the
 * single database's order; reads by id go straight to the id's shard.
 */
const A = "ms-1";
const B = "ms-2";
// Interleaved across the two makerspaces, with case and punctuation that SQLite orders by bytes.
const NAMES = ["alpha", "Bravo", "charlie", "Delta", "echo", "Foxtrot", "golf", "Hotel", "india", "Juliet", "kilo"];

const skillIds: Record<string, string> = {};

beforeAll(async () => {
  expect(await shardOf(A)).not.toBe(await shardOf(B));
  for (const [i, name] of NAMES.entries()) {
    const skill = await makeSkill({ makerspace_id: i % 3 === 0 ? B : A, name: `Fan ${name}`, category: "Fan" });
    skillIds[name] = skill.id;
  }
});

async function all<T>(path: string): Promise<T[]> {
  const res = await callJson<T[]>("GET", path, { token: await superAdmin() });
  expect(res.status, path).toBe(200);
  return res.body;
}

describe("a super_admin's listing across makerspaces", () => {
  it("pages through every shard in the single database's order (limit/offset)", async () => {
    const everything = await all<{ id: string; name: string; makerspace_id: string }>(
      "/api/v1/skills/?category=Fan&limit=200",
    );
    expect(everything.map((s) => s.name)).toEqual(
      [...NAMES].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).map((n) => `Fan ${n}`),
    );
    expect(new Set(everything.map((s) => s.makerspace_id))).toEqual(new Set([A, B]));
    for (const limit of [1, 3, 4]) {
      const pages: string[] = [];
      for (let offset = 0; offset < NAMES.length + limit; offset += limit) {
        pages.push(
          ...(await all<{ id: string }>(`/api/v1/skills/?category=Fan&limit=${limit}&offset=${offset}`)).map(
            (s) => s.id,
          ),
        );
      }
      expect(pages, `limit ${limit}`).toEqual(everything.map((s) => s.id));
    }
  });

  it("merges equipment and certifications the same way", async () => {
    for (const ms of [A, B, A]) await makeEquipment({ makerspace_id: ms, name: `Fan machine ${ms}` });
    const machines = await all<{ name: string; id: string }>("/api/v1/equipment?limit=200");
    const sorted = [...machines].sort((a, b) =>
      a.name.toLowerCase() === b.name.toLowerCase()
        ? a.id < b.id
          ? -1
          : 1
        : a.name.toLowerCase() < b.name.toLowerCase()
          ? -1
          : 1,
    );
    expect(machines.map((m) => m.id)).toEqual(sorted.map((m) => m.id));

    const user = "fan-user";
    for (const name of ["alpha", "Bravo", "Delta"]) {
      expect((await grant({ user_id: user, skill_id: skillIds[name] }, { token: await superAdmin() })).status).toBe(
        201,
      );
    }
    const certs = await all<{ created_at: string; id: string }>(`/api/v1/skills/user-skills?user_id=${user}`);
    expect(certs).toHaveLength(3);
    const newestFirst = [...certs].sort((a, b) =>
      a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1,
    );
    expect(certs.map((c) => c.id)).toEqual(newestFirst.map((c) => c.id));
    const second = await all<{ id: string }>(`/api/v1/skills/user-skills?user_id=${user}&limit=1&offset=1`);
    expect(second.map((c) => c.id)).toEqual([certs[1]?.id]);
  });

  it("pages the audit log by cursor across shards: every event once, newest first", async () => {
    const base = Date.now() - 60_000;
    const events = Array.from({ length: 9 }, (_, i) =>
      auditEvent({
        makerspace_id: i % 2 === 0 ? A : B,
        user_id: "fan-audit",
        // Two events share a millisecond: the id breaks the tie, as in one database.
        created_at: new Date(base + Math.floor(i / 2) * 1000).toISOString(),
      }),
    );
    await deliver(events);
    const seen: { id: string; created_at: string }[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/v1/skills/audit-logs?user_id=fan-audit&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await callJson<{ items: { id: string; created_at: string }[]; next_cursor: string | null }>(
        "GET",
        query,
        { token: await superAdmin() },
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
      cursor = res.body.next_cursor;
    } while (cursor);
    const expected = [...events].sort((a, b) =>
      a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1,
    );
    expect(seen.map((e) => e.id)).toEqual(expected.map((e) => e.id));
  });
});

describe("a super_admin's read by id goes to the id's shard alone", () => {
  it("a skill of another shard: one round trip, on that shard (the id's tag), no scan", async () => {
    const id = skillIds.Bravo as string;
    const home = await shardOf(A);
    expect(id).toMatch(home === "SHARD_1" ? /^skill_s1_/ : /^skill_s0_/);
    const { env: counted, counter } = countingEnv();
    const res = await callJson<{ id: string }>("GET", `/api/v1/skills/${id}`, {
      token: await superAdmin(),
      env: counted,
    });
    expect(res.status).toBe(200);
    expect(counter.byBinding).toEqual({ [home as string]: 1 });
  });

  it("equipment of another shard: the directory's index (cached per isolate), then that shard", async () => {
    const machine = await makeEquipment({ makerspace_id: B, id: "eq-fan-by-id" });
    const home = (await shardOf(B)) as string;
    clearDirectoryCache();
    const cold = countingEnv();
    const first = await callJson("GET", `/api/v1/equipment/${machine.id}`, {
      token: await superAdmin(),
      env: cold.env,
    });
    expect(first.status).toBe(200);
    expect(cold.counter.byBinding).toEqual({ DIRECTORY: 1, [home]: 1 });
    const warm = countingEnv();
    const again = await callJson("GET", `/api/v1/skills/access/equipment/${machine.id}?user_id=x&consistency=strong`, {
      token: await superAdmin(),
      env: warm.env,
    });
    expect(again.status).toBe(200);
    expect(warm.counter.byBinding).toEqual({ [home]: 1 });
  });

  it("an unknown id answers 404 from one shard, wherever its tag points", async () => {
    for (const id of ["skill_s1_00000000-0000-0000-0000-000000000000", "skill_s9_x", "no-tag-at-all"]) {
      const { env: counted, counter } = countingEnv();
      const res = await callJson("GET", `/api/v1/skills/${id}`, { token: await superAdmin(), env: counted });
      expect(res.status, id).toBe(404);
      expect(counter.roundTrips, id).toBe(1);
    }
  });
});
