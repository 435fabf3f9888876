// Serves the built Worker on Miniflare directly — no `wrangler dev` proxy chain, which on a
// 2-core machine caps even a no-op route near 540 req/s and would hide the app's own cost.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { d1Databases } from "./d1-bindings.mjs";
import { ensureDevVars, readDevVars } from "./dev-vars.mjs";

/** `npm run build:console`: the admin console into console/dist (wrangler.toml's [assets]). */
export function buildConsole() {
  const res = spawnSync("npx", ["vite", "build", "--config", "console/vite.config.ts"], {
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (res.status !== 0) {
    process.stderr.write(res.stdout + res.stderr);
    throw new Error("console build failed");
  }
}

/**
 * `wrangler deploy --dry-run --outdir dist`: the exact bundle that would be deployed (top-level
 * config), after the console it serves as static assets.
 */
export function buildWorker(outdir = "dist") {
  buildConsole();
  const res = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--env=", "--outdir", outdir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    encoding: "utf8",
  });
  if (res.status !== 0) {
    process.stderr.write(res.stdout + res.stderr);
    throw new Error("wrangler build failed");
  }
  return join(outdir, "index.js");
}

/** Applies migrations/*.sql in order, recording them in `d1_migrations` as wrangler does. */
export async function applyMigrations(db, dir = "migrations") {
  await db.exec(
    "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
  );
  const applied = new Set((await db.prepare("SELECT name FROM d1_migrations").all()).results.map((r) => r.name));
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const file of files) {
    if (applied.has(file)) continue;
    const statements = readFileSync(join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch([
      ...statements.map((s) => db.prepare(s)),
      db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(file),
    ]);
  }
}

/**
 * Starts the Worker on 127.0.0.1:port with local D1/KV/Queues persisted under `persistDir`
 * (shared with `wrangler dev` when it is `.wrangler/state`), and its inspector on `inspectorPort`
 * when given. Returns { url, mf, stop }. `handleStructuredLogs` receives the Worker's console
 * lines instead of the terminal (the bench keeps the routine ones quiet).
 *
 * Nothing answers on `port` before the migrations are applied (to every D1 database of
 * wrangler.toml): Miniflare first runs the Worker on
 * a random loopback port that no client knows, the migrations are applied through it, and only
 * then is the runtime moved to `port`. (Listening first, as `mf.ready` does, let a client that
 * started on the first `/health` answer meet "no such table".)
 */
export async function startLocalServer({
  port = 8787,
  persistDir = ".wrangler/state",
  vars = {},
  build = true,
  handleStructuredLogs,
  inspectorPort,
  shards = Number.POSITIVE_INFINITY,
} = {}) {
  await ensureDevVars();
  const scriptPath = build ? buildWorker() : join("dist", "index.js");
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const { modulesRules: _rules, ...options } = workerOptions;
  // `shards`: serve with only the first N shard bindings (the bench compares one shard with two).
  const kept = (binding) => !/^SHARD_\d+$/.test(binding) || Number(binding.slice(6)) < shards;
  options.d1Databases = Object.fromEntries(Object.entries(options.d1Databases ?? {}).filter(([b]) => kept(b)));
  const secrets = readDevVars();
  const optionsOn = (listenPort) =>
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: listenPort,
      // DevTools / Chrome DevTools Protocol (scripts/profile.mjs): ws://127.0.0.1:<port>/<worker name>.
      ...(inspectorPort ? { inspectorPort } : {}),
      resourcePersistencePath: join(persistDir, "v3"),
      // The placeholder Request.cf: no fetch from workers.cloudflare.com (offline machines).
      cf: false,
      // /cdn-cgi/local/scheduled?cron=… runs the cron handler, as under `wrangler dev`.
      unsafeTriggerHandlers: true,
      // The Worker's console lines ({ timestamp, level, message }); Miniflare prints them by default.
      ...(handleStructuredLogs ? { handleStructuredLogs } : {}),
      workers: [
        {
          ...options,
          name: options.name ?? "makrcave-skills-api",
          scriptPath,
          modules: true,
          bindings: { ...options.bindings, ...secrets, ...vars },
        },
      ],
    });
  const mf = new Miniflare(optionsOn(0));
  await mf.ready;
  // The directory and every shard, each database once (DIRECTORY and SHARD_0 are one).
  for (const { binding } of d1Databases().filter((d) => kept(d.binding))) {
    await applyMigrations(await mf.getD1Database(binding));
  }
  await mf.setOptions(optionsOn(port));
  const url = await mf.ready;
  return { url: url.toString().replace(/\/$/, ""), mf, stop: () => mf.dispose() };
}
