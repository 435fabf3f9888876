// Load generation and server-side accounting shared by `npm run bench` and `npm run profile`:
// wrk (the seed stack's harness uses it too, so numbers compare) driving scripts/bench/scenarios.lua,
// and the CPU time a server's processes used, read from /proc (the server's, not the client's).
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const LUA = fileURLToPath(new URL("../bench/scenarios.lua", import.meta.url));

export function haveWrk() {
  return spawnSync("wrk", ["--version"], { stdio: "ignore" }).error === undefined;
}

/** The files scenarios.lua draws from: users.txt, equipment.txt, held.txt ("user skill_id"). */
export function writeScenarioData(dir, { users, equipmentIds, held }) {
  writeFileSync(`${dir}/users.txt`, `${users.join("\n")}\n`);
  writeFileSync(`${dir}/equipment.txt`, `${equipmentIds.join("\n")}\n`);
  writeFileSync(`${dir}/held.txt`, `${held.map(([u, s]) => `${u} ${s}`).join("\n")}\n`);
}

/**
 * One wrk run of `scenario` against `url`: resolves to its RESULT line (requests, rps, p50/p90/p99,
 * statuses by class). Killed if it overruns by 10 s.
 */
export function runWrk({ url, scenario, seconds, connections, threads = 2, dataDir, token, makerspace }) {
  return new Promise((resolve, reject) => {
    const args = [
      `-t${threads}`,
      `-c${connections}`,
      `-d${seconds}s`,
      "--timeout",
      "5s",
      "-s",
      LUA,
      url,
      "--",
      scenario,
    ];
    const child = spawn("wrk", args, {
      env: { ...process.env, BENCH_DATA: dataDir, BENCH_TOKEN: token ?? "", BENCH_MAKERSPACE: makerspace ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 10) * 1000);
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (!line) reject(new Error(`wrk ${scenario} gave no result:\n${out}`));
      else resolve(JSON.parse(line.slice(7)));
    });
  });
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = s.lastIndexOf(")");
    const fields = s.slice(close + 2).split(" ");
    return {
      comm: s.slice(s.indexOf("(") + 1, close),
      ppid: Number(fields[1]),
      // utime + stime, plus cutime + cstime: a child that exited (a database backend that closed)
      // leaves its CPU time to the parent that reaped it.
      ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return undefined;
  }
}

/** `root` and all its descendants, from /proc. */
export function processTree(root) {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(name);
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(name)]);
  }
  const out = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop();
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds (user + system) used so far by the workerd processes under `root` (the runtime that
 * serves the Worker and its local D1/KV/Queues), and by the whole tree (with Miniflare's Node).
 */
export function serverCpu(root) {
  let workerd = 0;
  let all = 0;
  for (const pid of processTree(root)) {
    const s = stat(pid);
    if (!s) continue;
    all += s.ticks;
    if (s.comm.startsWith("workerd")) workerd += s.ticks;
  }
  return { workerd: workerd / CLOCK_TICKS, all: all / CLOCK_TICKS };
}

/**
 * Runs one measured scenario: wrk for `seconds` after `warmup` seconds. With `cpu` (a function
 * returning the server's CPU seconds so far), adds the server's CPU time per request over the
 * measured part.
 */
export async function measure({ cpu, warmup = 2, ...run }) {
  if (warmup > 0) await runWrk({ ...run, seconds: warmup });
  const before = cpu?.();
  const result = await runWrk(run);
  if (before !== undefined) {
    const used = cpu() - before;
    result.server_cpu_s = Number(used.toFixed(2));
    result.cpu_ms_per_req = Number(((used * 1000) / Math.max(1, result.requests)).toFixed(3));
  }
  return result;
}

/** CPU seconds of the workerd processes under `root` (what `measure` wants for a local server). */
export const workerdCpu = (root) => () => serverCpu(root).workerd;

/** CPU seconds of these process trees, whatever they run (another stack: its app, database, cache). */
export const treesCpu = (roots) => () => roots.reduce((n, root) => n + serverCpu(root).all, 0);
