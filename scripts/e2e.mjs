// npm run test:e2e — the black-box suite: a real `wrangler dev` on 127.0.0.1 (local D1, KV and
// Queues on a fresh persistence directory), driven over HTTP only — the README walkthrough run by
// bash as printed, the design's examples, the cron trigger, the README's import block, webhooks
// delivered to a local receiver, sharding (two shards) — after a startup probe of
// `npm run start:local`. Writes test-results/e2e.json (counted by .ci/run) and ends with
// "N passed, M failed".
import { mkdirSync, writeFileSync } from "node:fs";
import { freePort, startServer } from "./lib/client.mjs";
import { cronCases } from "./lib/e2e-cron.mjs";
import { designCases } from "./lib/e2e-design.mjs";
import { clients, readmeCases } from "./lib/e2e-readme.mjs";
import { shardCases } from "./lib/e2e-shards.mjs";
import { startupCase } from "./lib/e2e-startup.mjs";
import { transferCases } from "./lib/e2e-transfers.mjs";
import { closeWebhookReceiver, webhookCases } from "./lib/e2e-webhooks.mjs";

const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 360_000);

const results = [];
const state = {};
let server;

function finish(code) {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed || (code === 0 ? 0 : 1);
  mkdirSync("test-results", { recursive: true });
  writeFileSync(
    "test-results/e2e.json",
    JSON.stringify(
      { numPassedTests: passed, numFailedTests: failed, numTotalTests: passed + failed, results },
      null,
      2,
    ),
  );
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : code);
}

const watchdog = setTimeout(async () => {
  console.error(`e2e: overall timeout of ${TIMEOUT_MS} ms reached`);
  results.push({ name: "overall timeout", ok: false, error: `exceeded ${TIMEOUT_MS} ms` });
  await server?.stop();
  await closeWebhookReceiver(state);
  finish(1);
}, TIMEOUT_MS);

async function run(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - started });
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.push({ name, ok: false, ms: Date.now() - started, error: String(err?.stack ?? err) });
    console.log(`not ok - ${name}\n  ${String(err?.message ?? err).replace(/\n/g, "\n  ")}`);
  }
}

try {
  await run("start:local: the first /health answer is followed by no 500 (migrations applied before listening)", () =>
    startupCase(),
  );
  const port = Number(process.env.E2E_PORT ?? (await freePort()));
  const t0 = Date.now();
  // The suite makes more imports, exports and webhook tests for ms-1 within a minute than the
  // makerspace budget (10 a minute) allows a real makerspace; that budget has its own tests.
  server = await startServer({
    script: "scripts/dev.mjs",
    port,
    args: ["--var", "RATE_MAKERSPACE_PER_MINUTE:0"],
    quiet: process.env.E2E_VERBOSE !== "1",
  });
  const startMs = Date.now() - t0;
  console.log(`wrangler dev ready on ${server.url} in ${startMs} ms`);
  results.push({ name: "wrangler dev starts and /health answers", ok: true, ms: startMs });

  const c = await clients(server.url);
  await run("GET /health (no auth) and ?deep=1", async () => {
    const plain = await c.anonymous("GET", "/health");
    const deep = await c.anonymous("GET", "/health?deep=1");
    if (plain.status !== 200 || plain.body?.status !== "ok" || deep.status !== 200) {
      throw new Error(`health: ${plain.status} ${JSON.stringify(plain.body)} / deep ${deep.status}`);
    }
  });
  const cases = [
    ...readmeCases(c, state, server.url),
    ...designCases(c, state),
    ...cronCases(c, state),
    ...transferCases(c, state, server.url),
    ...webhookCases(c, state),
    ...shardCases(server.url),
  ];
  for (const [name, fn] of cases) await run(name, fn);
  console.log(
    `audit latency (write → visible in GET /skills/audit-logs): README ${state.auditLatencyMs ?? "?"} ms (${state.auditPolls ?? "?"} polls of its loop), CNC grant ${state.cncAuditMs ?? "?"} ms; walkthrough ${state.walkthroughMs ?? "?"} ms`,
  );
  console.log(
    `webhooks: grant → signed delivery ${state.webhookLatencyMs ?? "?"} ms; retry after ${state.retryGapMs ?? "?"} ms; README import block ${state.importMs ?? "?"} ms`,
  );
} catch (err) {
  results.push({ name: "server start", ok: false, error: String(err?.stack ?? err) });
  console.error(err);
} finally {
  clearTimeout(watchdog);
  await server?.stop();
  await closeWebhookReceiver(state);
}
finish(0);
