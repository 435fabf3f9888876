// Sharding over HTTP on the running `npm run dev` (two shards, wrangler.toml): a second makerspace
// lands on the other shard, each write answers its consistency token, a read sending it back is
// served, and a super_admin's listing spans both shards.
import assert from "node:assert/strict";
import { api, mintToken } from "./client.mjs";
import { assertStatus } from "./e2e-readme.mjs";

const TOKEN = /^SHARD_\d+:[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** Returns [name, fn] pairs; `url` is the server's base URL. */
export function shardCases(url) {
  return [
    [
      "shards: /health?deep=1 reports each shard; new makerspaces fill both; writes answer tokens read back",
      async () => {
        const deep = assertStatus(await api(url)("GET", "/health?deep=1"), 200);
        assert.deepEqual(deep.checks.shards, { SHARD_0: "ok", SHARD_1: "ok" });
        const shardOf = new Map();
        // New makerspaces go to the least-filled shard: two in a row cover both of them.
        const makerspaces = ["ms-1", "ms-e2e-a", "ms-e2e-b"];
        for (const ms of makerspaces) {
          const admin = api(url, await mintToken({ role: "makerspace_admin", sub: "admin-e2e", makerspace: ms }));
          const res = await admin("POST", "/api/v1/skills/", {
            name: "Shard Probe",
            category: "Shards",
            level: "beginner",
            makerspace_id: ms,
          });
          assertStatus(res, 201);
          const token = res.headers.get("x-consistency-token") ?? "";
          assert.match(token, TOKEN);
          shardOf.set(ms, token.split(":")[0]);

          // Read-your-writes: the token sent back on a read of the new skill.
          const read = await admin("GET", `/api/v1/skills/${res.body.id}`, undefined, { "x-consistency-token": token });
          assert.equal(assertStatus(read, 200).id, res.body.id);
        }
        assert.deepEqual([...new Set(shardOf.values())].sort(), ["SHARD_0", "SHARD_1"], JSON.stringify([...shardOf]));

        const root = api(url, await mintToken({ role: "super_admin", sub: "root-e2e" }));
        const all = assertStatus(await root("GET", "/api/v1/skills/?q=shard%20probe"), 200);
        assert.deepEqual(all.map((s) => s.makerspace_id).sort(), makerspaces);
      },
    ],
  ];
}
