import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clearDirectoryCache } from "../../src/platform/db/directory";
import { expectError } from "../helpers/assertions";
import { makeEquipment, makeSkill, uniqueName } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { countOnEveryShard, shardOf, shards } from "../helpers/shards";
import { admin, member, superAdmin } from "../helpers/tokens";

/** The directory's rows, straight from D1: makerspace → shard. */
async function directoryRows(): Promise<Record<string, string>> {
  const { results } = await env.DIRECTORY.prepare("select makerspace_id, shard from makerspace_shards").all<{
    makerspace_id: string;
    shard: string;
  }>();
  return Object.fromEntries(results.map((r) => [r.makerspace_id, r.shard]));
}

const skillsOn = async (shard: D1Database, makerspace: string) =>
  (
    await shard
      .prepare("select count(*) as n from skills where makerspace_id = ?")
      .bind(makerspace)
      .first<{ n: number }>()
  )?.n ?? 0;

describe("the shard directory", () => {
  it("the test env has two shards; ms-1 and ms-2 are placed on different ones", async () => {
    expect(shards().map((s) => s.name)).toEqual(["SHARD_0", "SHARD_1"]);
    expect(await directoryRows()).toMatchObject({ "ms-1": "SHARD_1", "ms-2": "SHARD_0" });
  });

  it("a new makerspace goes to the shard holding the fewest makerspaces, by its first write", async () => {
    const counts = (rows: Record<string, string>) => {
      const n: Record<string, number> = {};
      for (const shard of Object.values(rows)) n[shard] = (n[shard] ?? 0) + 1;
      return n;
    };
    for (const ms of ["ms-dir-a", "ms-dir-b", "ms-dir-c", "ms-dir-d"]) {
      const fill = counts(await directoryRows());
      const least = ["SHARD_0", "SHARD_1"].sort((a, b) => (fill[a] ?? 0) - (fill[b] ?? 0))[0];
      await makeSkill({ makerspace_id: ms });
      expect(await shardOf(ms)).toBe(least);
    }
  });

  it("concurrent first writes for one makerspace all land on the same shard (insert or ignore, read back)", async () => {
    const ms = "ms-dir-race";
    const token = await admin(ms);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        callJson("POST", "/api/v1/skills/", {
          token,
          body: { name: uniqueName(), category: "Race", level: "beginner", makerspace_id: ms },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    const home = await shardOf(ms);
    const rows = await env.DIRECTORY.prepare("select count(*) as n from makerspace_shards where makerspace_id = ?")
      .bind(ms)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
    for (const { name, db } of shards()) expect(await skillsOn(db, ms)).toBe(name === home ? 6 : 0);
    // Each isolate caches the placement; a fresh one reads the same row back.
    clearDirectoryCache();
    expect(await shardOf(ms)).toBe(home);
  });

  it("reads of a makerspace nothing was written for answer as empty, and place it nowhere", async () => {
    const ms = "ms-dir-ghost";
    const reads = [
      "/api/v1/skills/",
      "/api/v1/equipment",
      "/api/v1/skills/user-skills",
      "/api/v1/skills/requests",
      "/api/v1/skills/equipment-requirements",
    ];
    for (const path of reads) {
      const res = await callJson<unknown[]>("GET", path, { token: await member("user-1", ms) });
      expect(res.status, path).toBe(200);
      expect(res.body, path).toEqual([]);
    }
    const audit = await callJson("GET", "/api/v1/skills/audit-logs", { token: await admin(ms) });
    expect(audit.body).toEqual({ items: [], next_cursor: null });
    const bulk = await callJson("GET", `/api/v1/skills/access/equipment?user_id=u&makerspace_id=${ms}`, {
      token: await superAdmin(),
    });
    expect(bulk.body).toMatchObject({ equipment_access: [], summary: { total_equipment: 0 } });
    expect(await shardOf(ms)).toBeNull();
  });

  it("a makerspace placed by an operator (a directory row written beforehand) is written there", async () => {
    const ms = "ms-dir-pinned";
    await env.DIRECTORY.prepare(
      "insert into makerspace_shards (makerspace_id, shard, created_at) values (?, 'SHARD_1', ?)",
    )
      .bind(ms, new Date().toISOString())
      .run();
    await makeSkill({ makerspace_id: ms });
    expect(await skillsOn(env.SHARD_1, ms)).toBe(1);
    expect(await skillsOn(env.SHARD_0, ms)).toBe(0);
  });

  it("a directory row naming a shard this Worker has no binding for is a config_error, named in the log", async () => {
    const logs = captureLogs();
    await env.DIRECTORY.prepare(
      "insert into makerspace_shards (makerspace_id, shard, created_at) values ('ms-dir-lost', 'SHARD_7', ?)",
    )
      .bind(new Date().toISOString())
      .run();
    expectError(
      await callJson("GET", "/api/v1/skills/", { token: await member("u", "ms-dir-lost") }),
      500,
      "config_error",
    );
    expect(logs.lines).toEqual([
      expect.objectContaining({ msg: "invalid configuration", bindings: [expect.stringContaining("SHARD_7")] }),
      expect.objectContaining({ msg: "request failed", status: 500 }),
    ]);
  });
});

describe("equipment ids are unique across every shard", () => {
  it("an id taken in a makerspace of another shard is 409 equipment_conflict", async () => {
    expect(await shardOf("ms-1")).not.toBe(await shardOf("ms-2"));
    await makeEquipment({ id: "eq-dir-shared", makerspace_id: "ms-1" });
    const again = await callJson("POST", "/api/v1/equipment", {
      token: await admin("ms-2"),
      body: { id: "eq-dir-shared", name: "Elsewhere", makerspace_id: "ms-2" },
    });
    expectError(again, 409, "equipment_conflict");
    expect(await countOnEveryShard("select count(*) as n from equipment where id = 'eq-dir-shared'")).toBe(1);
  });

  it("two makerspaces on different shards racing for one id: one 201, one 409", async () => {
    const create = async (ms: string) =>
      callJson("POST", "/api/v1/equipment", {
        token: await admin(ms),
        body: { id: "eq-dir-race", name: `Raced by ${ms}`, makerspace_id: ms },
      });
    const statuses = (await Promise.all([create("ms-1"), create("ms-2")])).map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409]);
    expect(await countOnEveryShard("select count(*) as n from equipment where id = 'eq-dir-race'")).toBe(1);
  });

  it("within one makerspace, a reused id is 409 as before", async () => {
    await makeEquipment({ id: "eq-dir-twice", makerspace_id: "ms-2" });
    const twice = await callJson("POST", "/api/v1/equipment", {
      token: await admin("ms-2"),
      body: { id: "eq-dir-twice", name: "Twice", makerspace_id: "ms-2" },
    });
    expectError(twice, 409, "equipment_conflict");
  });
});
