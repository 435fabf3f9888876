// npm run bench — the access hot path and the grant write, measured side by side in one run:
// 1. the floor: a no-op Worker served by the same Miniflare (scripts/floor-server.mjs);
// 2. the built Worker on Miniflare (npm run start:local) on a fresh local database, loaded with the
//    bench dataset through the API (scripts/lib/bench-dataset.mjs), each member's KV entry warmed;
// 3. each scenario driven by wrk (2 threads, random member × equipment per request; 2 s warm-up,
//    then BENCH_SECONDS measured), with the server's own CPU time per request read from /proc;
// 4. with SEED_URL, the seed's stack (FastAPI + PostgreSQL + Redis) loaded with the same dataset and
//    driven by the same wrk script, for the routes it has.
// Prints the table (req/s, ratio to the floor and to /health, p50/p99, server CPU per request) and
// the targets, and writes bench-results/bench.json.
//
// Env: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_GRANT_CONNECTIONS (16), BENCH_MEMBERS (2000),
//      BENCH_PORT (a free one); SHARDS (every shard binding of wrangler.toml; SHARDS=1 serves
//      SHARD_0 alone, to compare one shard with two);
//      SEED_URL (e.g. http://127.0.0.1:8100), SEED_JWT_SECRET (bench-secret), SEED_PIDS (the root PIDs
//      of its processes — app, database, cache — for its CPU per request).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { benchDataset, loadDataset, MAKERSPACE } from "./lib/bench-dataset.mjs";
import { api, BUDGETS_OFF, freePort, mintToken, pool, startServer } from "./lib/client.mjs";
import { haveWrk, measure, treesCpu, workerdCpu, writeScenarioData } from "./lib/load.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const GRANT_CONNECTIONS = Number(process.env.BENCH_GRANT_CONNECTIONS ?? 16);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 2000);
const SEED_URL = process.env.SEED_URL?.replace(/\/$/, "");
const SEED_SECRET = process.env.SEED_JWT_SECRET ?? "bench-secret";

/** The scenarios; `seed` marks those the seed's stack implements. */
const SCENARIOS = [
  { name: "/health", scenario: "health", seed: true },
  { name: "cached single check", scenario: "cached", seed: true },
  { name: "strong single check", scenario: "strong" },
  { name: "verify", scenario: "verify", expected403: true },
  { name: "bulk check (200 equipment)", scenario: "bulk", seed: true },
  { name: "bulk check, 4 connections", scenario: "bulk", connections: 4 },
  { name: "grant (renewal)", scenario: "grant", connections: GRANT_CONNECTIONS, seed: true },
];

let lastProgress = 0;
function progress(label, done, total, started) {
  const now = Date.now();
  const final = done === total;
  if (!final && now - lastProgress < (process.stdout.isTTY ? 200 : 3000)) return;
  lastProgress = now;
  const rate = done / Math.max(0.001, (now - started) / 1000);
  const line = `  ${label}: ${done}/${total} (${rate.toFixed(0)}/s)`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}   ${final ? "\n" : ""}`);
  else console.log(line);
}

function row(server, s, result) {
  const connections = s.connections ?? CONNECTIONS;
  const unexpected = result.other_status + result.socket_errors + (s.expected403 ? 0 : result.denied_403);
  return {
    server,
    scenario: s.name,
    connections,
    requests_per_sec: Math.round(result.rps),
    p50_ms: result.p50_ms,
    p99_ms: result.p99_ms,
    cpu_ms_per_req: result.cpu_ms_per_req ?? null,
    non_2xx: result.denied_403 + result.other_status,
    unexpected,
    requests: result.requests,
  };
}

async function runAll(server, url, cpu, token, dataDir, scenarios) {
  const rows = [];
  for (const s of scenarios) {
    process.stdout.write(`  ${server}: ${s.name} (2 s warm-up + ${SECONDS} s)…\n`);
    const result = await measure({
      url,
      scenario: s.scenario,
      seconds: SECONDS,
      connections: s.connections ?? CONNECTIONS,
      dataDir,
      token,
      makerspace: MAKERSPACE,
      cpu,
    });
    rows.push(row(server, s, result));
  }
  return rows;
}

async function loadInto(url, token, data, label, cpu) {
  console.log(
    `Loading ${label}: ${data.skills.length} skills, ${data.equipment.length} equipment, ${MEMBERS} members…`,
  );
  const call = api(url, token);
  const loaded = await loadDataset(call, data, { onProgress: progress, cpu });
  console.log(`  ${loaded.grants} grants at ${loaded.grantsPerSecond}/s (16 members at a time, each one's in turn)`);
  const started = Date.now();
  let warmed = 0;
  await pool(loaded.users, 16, async (u) => {
    await call("GET", `/api/v1/skills/access/equipment/${loaded.equipmentIds[0]}?user_id=${u}`);
    progress("warming the per-member cache", ++warmed, loaded.users.length, started);
  });
  return loaded;
}

/** Servers this run started, stopped even when the time budget runs out. */
const running = new Set();
function track(server) {
  running.add(server);
  const stop = server.stop;
  server.stop = async () => {
    running.delete(server);
    await stop();
  };
  return server;
}

/** The load's grants as a row: new certifications, 16 members at a time, each member's in turn. */
function loadRow(server, loaded) {
  return {
    server,
    scenario: "grant (new, while loading)",
    connections: 16,
    requests_per_sec: loaded.grantsPerSecond,
    p50_ms: null,
    p99_ms: null,
    cpu_ms_per_req: loaded.cpuMsPerGrant,
    non_2xx: 0,
    unexpected: 0,
    requests: loaded.grants,
  };
}

const fmt = (v, digits = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));

async function main() {
  if (!haveWrk()) throw new Error("wrk not found: apt-get install -y wrk");
  const wall = Date.now();
  const loadBefore = os.loadavg()[0];
  const data = benchDataset({ members: MEMBERS });
  const dataDir = mkdtempSync(join(os.tmpdir(), "makrcave-bench-"));
  const rows = [];

  const floorPort = await freePort();
  console.log(`The floor: a no-op Worker on the same Miniflare (127.0.0.1:${floorPort})…`);
  const floor = track(await startServer({ script: "scripts/floor-server.mjs", port: floorPort }));
  try {
    writeScenarioData(dataDir, { users: ["none"], equipmentIds: ["none"], held: [] });
    const noop = [{ name: "no-op Worker", scenario: "floor" }];
    rows.push(...(await runAll("floor", floor.url, workerdCpu(floor.pid), undefined, dataDir, noop)));
  } finally {
    await floor.stop();
  }

  const port = Number(process.env.BENCH_PORT ?? (await freePort()));
  console.log(`Starting the built Worker on Miniflare (127.0.0.1:${port}) with a fresh local database…`);
  // One admin token drives every scenario, thousands of calls a second: the budgets are off.
  const server = track(await startServer({ port, env: BUDGETS_OFF }));
  let loadRate;
  try {
    const token = await mintToken({ role: "makerspace_admin", sub: "bench-admin", makerspace: MAKERSPACE });
    const loaded = await loadInto(server.url, token, data, "the Worker", workerdCpu(server.pid));
    loadRate = loaded.grantsPerSecond;
    writeScenarioData(dataDir, loaded);
    rows.push(...(await runAll("worker", server.url, workerdCpu(server.pid), token, dataDir, SCENARIOS)));
    rows.push(loadRow("worker", loaded));
  } finally {
    await server.stop();
  }

  let seedLoadRate = null;
  if (SEED_URL) {
    const pids = (process.env.SEED_PIDS ?? "").split(/\s+/).filter(Boolean).map(Number);
    const seedCpu = pids.length > 0 ? treesCpu(pids) : undefined;
    const token = await mintToken({
      role: "makerspace_admin",
      sub: "bench-admin",
      makerspace: MAKERSPACE,
      secret: SEED_SECRET,
    });
    // Loading again is harmless (409s on equipment and skills are accepted, grants renew).
    const loaded = await loadInto(SEED_URL, token, data, "the seed's stack", seedCpu);
    seedLoadRate = loaded.grantsPerSecond;
    const seedDir = mkdtempSync(join(os.tmpdir(), "makrcave-bench-seed-"));
    writeScenarioData(seedDir, loaded);
    rows.push(
      ...(await runAll(
        "seed",
        SEED_URL,
        seedCpu,
        token,
        seedDir,
        SCENARIOS.filter((x) => x.seed),
      )),
    );
    rows.push(loadRow("seed", loaded));
  }

  const floorRps = rows[0].requests_per_sec;
  const floorCpu = rows[0].cpu_ms_per_req;
  for (const r of rows) {
    const own = rows.find((x) => x.server === r.server && x.scenario === "/health");
    r.ratio_to_floor = Number((r.requests_per_sec / floorRps).toFixed(2));
    r.ratio_to_health = own ? Number((r.requests_per_sec / own.requests_per_sec).toFixed(2)) : null;
    // The same ratios from server CPU per request: steadier than req/s on a shared machine.
    r.cpu_ratio_to_floor = r.cpu_ms_per_req && floorCpu ? Number((floorCpu / r.cpu_ms_per_req).toFixed(2)) : null;
    r.cpu_ratio_to_health =
      r.cpu_ms_per_req && own?.cpu_ms_per_req ? Number((own.cpu_ms_per_req / r.cpu_ms_per_req).toFixed(2)) : null;
  }
  const worker = (name) => rows.find((r) => r.server === "worker" && r.scenario === name);
  const ratioGoal = (name, min, toFloor = false) => {
    const r = worker(name);
    const [byRps, byCpu] = toFloor
      ? [r.ratio_to_floor, r.cpu_ratio_to_floor]
      : [r.ratio_to_health, r.cpu_ratio_to_health];
    return { met: byRps >= min, by_rps: byRps, by_cpu: byCpu };
  };
  const grants = Math.min(
    worker("grant (renewal)").requests_per_sec,
    worker("grant (new, while loading)").requests_per_sec,
  );
  const targets = {
    "/health ≥ 0.85 × the floor": ratioGoal("/health", 0.85, true),
    "cached single check ≥ 0.6 × /health": ratioGoal("cached single check", 0.6),
    "bulk check ≥ 0.4 × /health": ratioGoal("bulk check (200 equipment)", 0.4),
    "strong single check ≥ 0.35 × /health": ratioGoal("strong single check", 0.35),
    "verify ≥ 0.35 × /health": ratioGoal("verify", 0.35),
    [`grants ≥ 280/s at ${GRANT_CONNECTIONS} connections (new and renewals)`]: { met: grants >= 280, per_sec: grants },
    "zero unexpected non-2xx": { met: rows.every((r) => r.server !== "worker" || r.unexpected === 0) },
  };

  const cpus = os.cpus();
  const meta = {
    date: new Date().toISOString(),
    machine: `${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${cpus[0]?.model ?? "cpu"}`,
    load_average: { before: Number(loadBefore.toFixed(2)), after: Number(os.loadavg()[0].toFixed(2)) },
    node: process.version,
    shards: process.env.SHARDS ? Number(process.env.SHARDS) : "every shard binding of wrangler.toml",
    load_generator: `wrk, 2 threads, on the same machine; 2 s warm-up + ${SECONDS} s per scenario`,
    server:
      "built Worker on Miniflare (npm run start:local), local D1/KV/Queues; floor: no-op Worker on the same Miniflare",
    cpu: "server CPU per request: user + system time of the server's workerd processes (/proc) over the measured run",
    dataset: {
      makerspace: MAKERSPACE,
      members: MEMBERS,
      skills: data.skills.length,
      equipment: data.equipment.length,
      grants: data.members.reduce((n, m) => n + m.grants.length, 0),
    },
    load_grants_per_sec: { worker: loadRate, seed: seedLoadRate },
    seed_url: SEED_URL ?? null,
    wall_seconds: Math.round((Date.now() - wall) / 1000),
  };

  console.log(
    `\n${meta.date} · ${meta.machine} · load average ${meta.load_average.before} → ${meta.load_average.after} · shards: ${meta.shards}`,
  );
  console.log(`wrk 2 threads · ${SECONDS} s per scenario · ${MEMBERS} members · grants while loading: ${loadRate}/s`);
  console.log(
    "| server | scenario | conns | req/s | × floor | × /health | p50 ms | p99 ms | CPU ms/req | × floor by CPU | × /health by CPU | non-2xx | unexpected |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.server} | ${r.scenario} | ${r.connections} | ${r.requests_per_sec} | ${fmt(r.ratio_to_floor)} | ${fmt(r.ratio_to_health)} | ${fmt(r.p50_ms, 1)} | ${fmt(r.p99_ms, 1)} | ${fmt(r.cpu_ms_per_req, 3)} | ${fmt(r.cpu_ratio_to_floor)} | ${fmt(r.cpu_ratio_to_health)} | ${r.non_2xx} | ${r.unexpected} |`,
    );
  }
  console.log("\nTargets (judged on req/s; the same ratio from server CPU per request beside it):");
  for (const [k, t] of Object.entries(targets)) {
    const detail =
      t.by_rps !== undefined
        ? ` (req/s ${fmt(t.by_rps)}, CPU ${fmt(t.by_cpu)})`
        : t.per_sec !== undefined
          ? ` (${t.per_sec}/s)`
          : "";
    console.log(`  ${t.met ? "met   " : "MISSED"} ${k}${detail}`);
  }
  mkdirSync("bench-results", { recursive: true });
  writeFileSync("bench-results/bench.json", `${JSON.stringify({ meta, rows, targets }, null, 2)}\n`);
  console.log("\nWritten to bench-results/bench.json");
}

const deadline = setTimeout(
  async () => {
    console.error("bench: time budget exceeded, stopping");
    await Promise.allSettled([...running].map((s) => s.stop()));
    process.exit(2);
  },
  30 * 60 * 1000,
);
main()
  .then(() => clearTimeout(deadline))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
