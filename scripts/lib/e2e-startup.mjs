// "A client that starts when /health first answers never sees a 500": npm run start:local on a
// fresh database, polled from the moment it is spawned; its very first answer is followed at once
// by an API call that needs the tables and by /health?deep=1.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, mintToken } from "./client.mjs";
import { ensureDevVars } from "./dev-vars.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `url` every few milliseconds until something answers; returns that first response. */
async function firstAnswer(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`start:local exited with ${child.exitCode}`);
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2_000) });
    } catch {
      await sleep(5);
    }
  }
  throw new Error(`nothing answered on ${url} within ${timeoutMs} ms`);
}

export async function startupCase(timeoutMs = 120_000) {
  await ensureDevVars();
  const token = await mintToken({ role: "makerspace_admin", sub: "admin-1", makerspace: "ms-1" });
  const port = await freePort();
  const child = spawn(process.execPath, ["scripts/start-local.mjs"], {
    env: { ...process.env, PORT: String(port), PERSIST_DIR: mkdtempSync(join(tmpdir(), "makrcave-")) },
    stdio: "ignore",
    detached: true,
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    const health = await firstAnswer(`${base}/health`, child, timeoutMs);
    const [skills, deep] = await Promise.all([
      fetch(`${base}/api/v1/skills/`, { headers: { authorization: `Bearer ${token}` } }),
      fetch(`${base}/health?deep=1`),
    ]);
    assert.equal(health.status, 200, "first /health answer");
    assert.equal(skills.status, 200, `GET /api/v1/skills/ right after: ${await skills.text()}`);
    const { status, checks } = await deep.json();
    assert.deepEqual(
      { status, d1: checks.d1, schema: checks.schema, kv: checks.kv, shards: checks.shards },
      { status: "ok", d1: "ok", schema: "ok", kv: "ok", shards: { SHARD_0: "ok", SHARD_1: "ok" } },
      "every database (the directory and each shard) migrated before the first answer",
    );
    assert.equal(checks.rate_limited.caller, 0, "no 429 on a fresh server");
  } finally {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}
