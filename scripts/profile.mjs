// npm run profile — CPU profiles of the built Worker under load, taken with the Chrome DevTools
// Protocol on Miniflare's inspector port (Profiler.start / Profiler.stop over a WebSocket). Starts
// the Worker on a fresh local database, loads the bench dataset (small by default), then for each
// scenario runs wrk and profiles the measured part. Writes one `.cpuprofile` per scenario (open in
// Chrome DevTools' Performance panel or https://www.speedscope.app) and a summary — self time by
// function and by source, mapped through the bundle's source map — to bench-results/profiles/.
//
// Env: PROFILE_LABEL (current), PROFILE_SECONDS (5), PROFILE_CONNECTIONS (8), PROFILE_MEMBERS (200; 0 loads nothing, for /health alone),
//      PROFILE_SCENARIOS ("health cached bulk grant strong verify"), PROFILE_INTERVAL_US (100).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchDataset, loadDataset, MAKERSPACE } from "./lib/bench-dataset.mjs";
import { api, BUDGETS_OFF, freePort, mintToken, pool, startServer } from "./lib/client.mjs";
import { connectInspector, loadSourceMap, summarise } from "./lib/cpu-profile.mjs";
import { haveWrk, measure, runWrk, workerdCpu, writeScenarioData } from "./lib/load.mjs";

const LABEL = process.env.PROFILE_LABEL ?? "current";
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 8);
const MEMBERS = Number(process.env.PROFILE_MEMBERS ?? 200);
const SCENARIOS = (process.env.PROFILE_SCENARIOS ?? "health cached bulk grant strong verify").split(/\s+/);
const INTERVAL_US = Number(process.env.PROFILE_INTERVAL_US ?? 100);
const OUT = join("bench-results", "profiles");
const WORKER_NAME = "makrcave-skills-api";

function print(summary) {
  const pct = (x) => `${(x.share * 100).toFixed(1).padStart(5)}%`;
  console.log("  by source:   ", summary.sources.map((s) => `${s.name} ${pct(s).trim()}`).join(", "));
  console.log("  self time:");
  for (const f of summary.functions) console.log(`    ${pct(f)}  ${f.name}`);
  console.log("  this project's functions, inclusive:");
  for (const f of summary.project_inclusive) console.log(`    ${pct(f)}  ${f.name}`);
}

async function main() {
  if (process.argv[2] === "--summary") {
    // Re-read saved profiles: npm run profile -- --summary bench-results/profiles/x.cpuprofile …
    const map = loadSourceMap("dist/index.js.map");
    for (const file of process.argv.slice(3)) {
      console.log(`== ${file}`);
      print(summarise(JSON.parse(readFileSync(file, "utf8")), { map }));
    }
    return;
  }
  if (!haveWrk()) throw new Error("wrk not found (apt-get install -y wrk)");
  const port = await freePort();
  const inspectorPort = await freePort();
  console.log(`Starting the built Worker on 127.0.0.1:${port}, inspector on ${inspectorPort}…`);
  // One admin token drives the load: the budgets are off, as in the bench.
  const server = await startServer({ port, env: { ...BUDGETS_OFF, INSPECTOR_PORT: String(inspectorPort) } });
  try {
    const token = await mintToken({ role: "makerspace_admin", sub: "bench-admin", makerspace: MAKERSPACE });
    const call = api(server.url, token);
    let loaded = { users: [], equipmentIds: [], held: [] };
    if (MEMBERS > 0) {
      console.log(`Loading ${MEMBERS} members' dataset…`);
      loaded = await loadDataset(call, benchDataset({ members: MEMBERS }));
      console.log(`  ${loaded.grants} grants at ${loaded.grantsPerSecond}/s`);
      const first = loaded.equipmentIds[0];
      await pool(loaded.users, 16, (u) => call("GET", `/api/v1/skills/access/equipment/${first}?user_id=${u}`));
    }
    const dataDir = mkdtempSync(join(tmpdir(), "makrcave-profile-"));
    writeScenarioData(dataDir, loaded);

    const map = loadSourceMap("dist/index.js.map");
    const cdp = await connectInspector(inspectorPort, WORKER_NAME);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
    mkdirSync(OUT, { recursive: true });
    const summaries = {};
    for (const scenario of SCENARIOS) {
      const run = { url: server.url, scenario, connections: CONNECTIONS, dataDir, token, makerspace: MAKERSPACE };
      await runWrk({ ...run, seconds: 2 });
      await cdp.send("Profiler.start");
      const result = await measure({ ...run, seconds: SECONDS, warmup: 0, cpu: workerdCpu(server.pid) });
      const { profile } = await cdp.send("Profiler.stop");
      const file = join(OUT, `${LABEL}-${scenario}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const summary = summarise(profile, { map, requests: result.requests });
      summaries[scenario] = { ...summary, rps: result.rps, cpu_ms_per_req: result.cpu_ms_per_req, ok: result.ok };
      console.log(
        `\n== ${scenario}: ${result.rps.toFixed(0)} req/s, isolate busy ${summary.busy_us_per_req} µs/req, workerd ${result.cpu_ms_per_req} ms CPU/req, GC ${(summary.gc_share * 100).toFixed(1)}% (${file})`,
      );
      print(summary);
    }
    await cdp.send("Profiler.disable");
    cdp.close();
    writeFileSync(
      join(OUT, `${LABEL}.json`),
      `${JSON.stringify({ label: LABEL, at: new Date().toISOString(), connections: CONNECTIONS, seconds: SECONDS, members: MEMBERS, interval_us: INTERVAL_US, scenarios: summaries }, null, 1)}\n`,
    );
    console.log(`\nWritten to ${OUT}/${LABEL}-*.cpuprofile and ${OUT}/${LABEL}.json`);
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
