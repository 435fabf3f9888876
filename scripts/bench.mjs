// npm run bench — starts the built Worker on Miniflare (npm run start:local) on a fresh local
// database, loads a deterministic dataset through the API, then drives each scenario with
// autocannon on 127.0.0.1 and prints requests/s, p50, p99 and non-2xx, with each scenario's
// ratio to /health. Writes the same to bench-results/bench.json. Bounded in time.
//
// Env: BENCH_PORT (8791), BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_MEMBERS (2000),
//      BENCH_EQUIPMENT (200), BENCH_SKILLS (100), BENCH_CERTS (15), SHARDS (every shard binding of
//      wrangler.toml; SHARDS=1 serves SHARD_0 alone, to compare).
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import autocannon from "autocannon";
import { api, BUDGETS_OFF, mintToken, pool, prng, registerDevice, startServer } from "./lib/client.mjs";

const PORT = Number(process.env.BENCH_PORT ?? 8791);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 2000);
const EQUIPMENT = Number(process.env.BENCH_EQUIPMENT ?? 200);
const SKILLS = Number(process.env.BENCH_SKILLS ?? 100);
const CERTS = Number(process.env.BENCH_CERTS ?? 15);
const MS = "ms-bench";

let lastProgress = 0;
/** One progress line: rewritten in place on a terminal, else printed every 2 s. */
function progress(label, done, total, started) {
  const now = Date.now();
  const final = done === total;
  if (!final && now - lastProgress < (process.stdout.isTTY ? 200 : 2000)) return;
  lastProgress = now;
  const rate = done / Math.max(0.001, (now - started) / 1000);
  const line = `  ${label}: ${done}/${total} (${rate.toFixed(0)}/s)`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}   ${final ? "\n" : ""}`);
  else console.log(line);
}

async function must(res, what) {
  const r = await res;
  if (r.status >= 300) throw new Error(`${what} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** One makerspace, SKILLS skills (some with prerequisites), EQUIPMENT items needing 1–3 skills, MEMBERS × ~CERTS certifications. */
async function loadDataset(url) {
  const rand = prng(540);
  const adminCall = api(url, await mintToken({ role: "makerspace_admin", sub: "bench-admin", makerspace: MS }));
  const equipmentIds = Array.from({ length: EQUIPMENT }, (_, i) => `eq-bench-${String(i).padStart(3, "0")}`);
  let started = Date.now();
  let done = 0;
  await pool(equipmentIds, 8, async (id, i) => {
    await must(adminCall("POST", "/api/v1/equipment", { id, name: `Machine ${i}`, makerspace_id: MS }), "equipment");
    progress("equipment", ++done, EQUIPMENT, started);
  });

  // Each equipment item needs 1–3 distinct skills; skill i links the items that chose it.
  const links = Array.from({ length: SKILLS }, () => []);
  for (const eq of equipmentIds) {
    const n = 1 + Math.floor(rand() * 3);
    const chosen = new Set();
    while (chosen.size < n) chosen.add(Math.floor(rand() * SKILLS));
    for (const s of chosen) links[s].push(eq);
  }
  // Skills from index 20 on may have one prerequisite among the lower indices (acyclic).
  const prereqOf = Array.from({ length: SKILLS }, (_, i) => (i >= 20 && rand() < 0.3 ? Math.floor(rand() * i) : null));
  const skillIds = [];
  started = Date.now();
  for (let i = 0; i < SKILLS; i++) {
    const body = await must(
      adminCall("POST", "/api/v1/skills/", {
        name: `Bench Skill ${i}`,
        category: ["Safety", "Machining", "Electronics", "Woodwork"][i % 4],
        level: ["beginner", "intermediate", "advanced", "expert"][i % 4],
        makerspace_id: MS,
        prerequisite_ids: prereqOf[i] === null ? [] : [skillIds[prereqOf[i]]],
        equipment_ids: links[i],
      }),
      "skill",
    );
    skillIds.push(body.id);
    progress("skills", i + 1, SKILLS, started);
  }

  // ~CERTS certifications per member, prerequisites included, granted in dependency order.
  const grants = [];
  for (let m = 0; m < MEMBERS; m++) {
    const held = new Set();
    const add = (s) => {
      if (held.has(s)) return;
      if (prereqOf[s] !== null) add(prereqOf[s]);
      held.add(s);
    };
    while (held.size < CERTS) add(Math.floor(rand() * SKILLS));
    grants.push({ user: `member-${String(m).padStart(4, "0")}`, skills: [...held].sort((a, b) => a - b) });
  }
  const totalGrants = grants.reduce((n, g) => n + g.skills.length, 0);
  started = Date.now();
  done = 0;
  await pool(grants, 16, async (g) => {
    for (const s of g.skills) {
      await must(adminCall("POST", "/api/v1/skills/user-skills", { user_id: g.user, skill_id: skillIds[s] }), "grant");
      done++;
      progress("certifications", done, totalGrants, started);
    }
  });
  return { users: grants.map((g) => g.user), equipmentIds, totalGrants };
}

function runScenario({ url, token, pick, method = "GET", body, seconds, connections = CONNECTIONS }) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        requests: [
          {
            method,
            setupRequest: (req) => {
              const { path, payload } = pick();
              return { ...req, path, ...(payload ? { body: JSON.stringify(payload) } : body ? { body } : {}) };
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

function summarise(name, result, expectedStatuses = []) {
  const codes = result.statusCodeStats ?? {};
  const non2xx = Object.entries(codes)
    .filter(([code]) => !code.startsWith("2"))
    .reduce((n, [, v]) => n + v.count, 0);
  const expected = Object.entries(codes)
    .filter(([code]) => expectedStatuses.includes(Number(code)))
    .reduce((n, [, v]) => n + v.count, 0);
  return {
    scenario: name,
    requests_per_sec: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: non2xx,
    unexpected_non_2xx: non2xx - expected + result.errors + result.timeouts,
    total_requests: result.requests.total,
    status_codes: Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, v.count])),
  };
}

async function main() {
  const wall = Date.now();
  console.log(`Starting the built Worker on Miniflare (127.0.0.1:${PORT}) with a fresh local database…`);
  // One device token drives every scenario, thousands of calls a second: the budgets are off.
  const server = await startServer({ port: PORT, env: BUDGETS_OFF });
  try {
    console.log(
      `Loading dataset: ${SKILLS} skills, ${EQUIPMENT} equipment, ${MEMBERS} members × ~${CERTS} certifications`,
    );
    const data = await loadDataset(server.url);
    const deviceToken = await registerDevice(server.url, { name: "Bench door", makerspace: MS });
    const rand = prng(7);
    const randomUser = () => data.users[Math.floor(rand() * data.users.length)];
    const randomEq = () => data.equipmentIds[Math.floor(rand() * data.equipmentIds.length)];
    const u = (path) => ({ path });

    // Warm the KV cache for every member (cached checks are measured warm, as in production).
    const warmCall = api(server.url, deviceToken);
    const warmStart = Date.now();
    let warmed = 0;
    await pool(data.users, 16, async (user) => {
      await warmCall("GET", `/api/v1/skills/access/equipment/${data.equipmentIds[0]}?user_id=${user}`);
      progress("warming KV", ++warmed, data.users.length, warmStart);
    });

    const scenarios = [
      { name: "/health", pick: () => u("/health") },
      {
        name: "cached single check",
        pick: () => u(`/api/v1/skills/access/equipment/${randomEq()}?user_id=${randomUser()}&consistency=cached`),
      },
      {
        name: "strong single check",
        pick: () => u(`/api/v1/skills/access/equipment/${randomEq()}?user_id=${randomUser()}&consistency=strong`),
      },
      {
        name: "verify",
        method: "POST",
        expected: [403],
        pick: () => ({
          path: `/api/v1/skills/access/equipment/${randomEq()}/verify`,
          payload: { user_id: randomUser() },
        }),
      },
      { name: "bulk check (all equipment)", pick: () => u(`/api/v1/skills/access/equipment?user_id=${randomUser()}`) },
      {
        name: "bulk check, 4 connections (latency)",
        connections: 4,
        pick: () => u(`/api/v1/skills/access/equipment?user_id=${randomUser()}`),
      },
    ];

    const rows = [];
    for (const s of scenarios) {
      process.stdout.write(`  running ${s.name} (2 s warm-up + ${SECONDS} s)…\n`);
      const options = {
        url: server.url,
        token: deviceToken,
        pick: s.pick,
        method: s.method,
        connections: s.connections,
      };
      await runScenario({ ...options, seconds: 2 });
      const result = await runScenario({ ...options, seconds: SECONDS });
      rows.push(summarise(s.name, result, s.expected ?? []));
    }
    const health = rows[0].requests_per_sec;
    for (const [i, r] of rows.entries()) {
      r.connections = scenarios[i]?.connections ?? CONNECTIONS;
      r.ratio_to_health = Number((r.requests_per_sec / health).toFixed(2));
    }

    const meta = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? "cpu"}`,
      node: process.version,
      server: "built Worker on Miniflare (npm run start:local), local D1/KV/Queues",
      shards: process.env.SHARDS ? Number(process.env.SHARDS) : "every binding of wrangler.toml",
      connections: CONNECTIONS,
      seconds: SECONDS,
      dataset: { skills: SKILLS, equipment: EQUIPMENT, members: MEMBERS, certifications: data.totalGrants },
      wall_seconds: Math.round((Date.now() - wall) / 1000),
    };
    const targets = {
      "cached single check ≥ 0.8 × /health": rows[1].ratio_to_health >= 0.8,
      "strong single check ≥ 0.3 × /health": rows[2].ratio_to_health >= 0.3,
      "verify ≥ 0.3 × /health": rows[3].ratio_to_health >= 0.3,
      "bulk check p99 ≤ 50 ms": rows[4].p99_ms <= 50,
      "zero unexpected non-2xx": rows.every((r) => r.unexpected_non_2xx === 0),
    };

    console.log(
      `\n${meta.date} · ${meta.machine} · ${CONNECTIONS} connections · ${SECONDS} s per scenario · shards: ${meta.shards}`,
    );
    console.log("| scenario | conns | req/s | p50 ms | p99 ms | non-2xx | unexpected | × /health |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(
        `| ${r.scenario} | ${r.connections} | ${r.requests_per_sec} | ${r.p50_ms} | ${r.p99_ms} | ${r.non_2xx} | ${r.unexpected_non_2xx} | ${r.ratio_to_health} |`,
      );
    }
    console.log("\nTargets:");
    for (const [k, ok] of Object.entries(targets)) console.log(`  ${ok ? "met   " : "MISSED"} ${k}`);
    mkdirSync("bench-results", { recursive: true });
    writeFileSync("bench-results/bench.json", `${JSON.stringify({ meta, rows, targets }, null, 2)}\n`);
    console.log("\nWritten to bench-results/bench.json");
  } finally {
    await server.stop();
  }
}

const deadline = setTimeout(
  () => {
    console.error("bench: time budget exceeded, stopping");
    process.exit(2);
  },
  20 * 60 * 1000,
);
main()
  .then(() => clearTimeout(deadline))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
