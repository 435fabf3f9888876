import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LATEST_MIGRATION } from "../../src/platform/db/migrations";
import { expectError } from "../helpers/assertions";
import { countingEnv } from "../helpers/counting-d1";
import { envWithD1 } from "../helpers/d1-hooks";
import { callJson } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { admin } from "../helpers/tokens";

/**
 * The app over a real D1 that has not been migrated (or only partly), as its directory and every
 * shard: a server started too early.
 */
const early = envWithD1(() => env.UNMIGRATED_DB);

describe("/health?deep=1 and the database schema", () => {
  it("is 503 unavailable until the latest migration is applied, then ok; plain /health never looks", async () => {
    const logs = captureLogs();
    // Nothing applied: no d1_migrations table at all. An API call fails for want of its tables.
    expect((await callJson("GET", "/health", { env: early })).body).toEqual({ status: "ok" });
    const none = await callJson("GET", "/health?deep=1", { env: early });
    expectError(none, 503, "unavailable");
    expect(none.body).toMatchObject({ detail: "The database schema is not up to date" });
    expect(none.headers.get("retry-after")).toBe("5");
    const tooEarly = await callJson("GET", "/api/v1/skills", { token: await admin(), env: early });
    expect(tooEarly.status).toBe(500);

    // An older schema: d1_migrations exists but lacks the migration this code expects.
    await env.UNMIGRATED_DB.exec(
      "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    );
    await env.UNMIGRATED_DB.prepare("INSERT INTO d1_migrations (name) VALUES ('older.sql')").run();
    expectError(await callJson("GET", "/health?deep=1", { env: early }), 503, "unavailable");

    // Migrated as `wrangler d1 migrations apply` and start:local do it: healthy, and the API works.
    await applyD1Migrations(env.UNMIGRATED_DB, env.TEST_MIGRATIONS);
    const ready = await callJson("GET", "/health?deep=1", { env: early });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: "ok",
      checks: { d1: "ok", schema: "ok", kv: "ok", shards: { SHARD_0: "ok", SHARD_1: "ok" } },
    });
    expect((await callJson("GET", "/api/v1/skills", { token: await admin(), env: early })).status).toBe(200);

    const failed = logs.lines.filter((l) => l.msg === "deep health check failed");
    expect(failed).toEqual([
      expect.objectContaining({ level: "error", check: "schema", expected_migration: LATEST_MIGRATION }),
      expect.objectContaining({ level: "error", check: "schema", expected_migration: LATEST_MIGRATION }),
    ]);
    // The early API call was an unexpected fault, logged as one.
    expect(logs.messages("error")).toContain("unhandled error");
  });

  it("costs one D1 round trip per database (the directory and each shard, in parallel) and one KV read", async () => {
    const { env: counted, counter } = countingEnv();
    let kvReads = 0;
    const kv = counted.USER_SKILLS_CACHE;
    const countingKv = {
      get: (...args: Parameters<KVNamespace["get"]>) => {
        kvReads += 1;
        return kv.get(...args);
      },
    };
    const res = await callJson("GET", "/health?deep=1", {
      env: { ...counted, USER_SKILLS_CACHE: countingKv as unknown as KVNamespace } as Env,
    });
    expect(res.status).toBe(200);
    expect({ d1: counter.byBinding, kv: kvReads }).toEqual({ d1: { DIRECTORY: 1, SHARD_0: 1, SHARD_1: 1 }, kv: 1 });
  });
});
