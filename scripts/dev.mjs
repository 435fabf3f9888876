// npm run dev: local secrets (.dev.vars) created when missing, local D1 migrations applied to the
// directory and every shard, the admin console built (and rebuilt on change), then `wrangler dev` on
// http://127.0.0.1:8787 with local D1, KV and Queues.
import { spawn, spawnSync } from "node:child_process";
import { ensureDevVars } from "./lib/dev-vars.mjs";

// No telemetry, and no fetch of the `Request.cf` placeholder from workers.cloudflare.com: offline,
// that fetch fails with a getaddrinfo ENOTFOUND stack trace at every start (this API reads no
// `request.cf`; Miniflare's built-in placeholder is used). Set CLOUDFLARE_CF_FETCH_ENABLED=true
// to fetch it anyway.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
};
const port = process.env.PORT ?? "8787";
// PERSIST_DIR keeps a run's D1/KV/Queues state apart (the e2e and soak scripts use a fresh one).
const persist = process.env.PERSIST_DIR ? ["--persist-to", process.env.PERSIST_DIR] : [];
await ensureDevVars();
// The admin console first: wrangler.toml's [assets] serves console/dist under /admin. Then a
// watching build keeps it fresh while you edit console/ (wrangler dev serves what is on disk).
const consoleBuild = spawnSync("npx", ["vite", "build", "--config", "console/vite.config.ts"], {
  stdio: "inherit",
  env,
});
if (consoleBuild.status !== 0) process.exit(consoleBuild.status ?? 1);
const watch = spawn("npx", ["vite", "build", "--watch", "--config", "console/vite.config.ts"], {
  stdio: ["ignore", "ignore", "inherit"],
  env,
});
const migrate = spawnSync("node", ["scripts/migrate.mjs", "--local", ...persist], { stdio: "inherit", env });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);
const dev = spawn(
  "npx",
  ["wrangler", "dev", "--ip", "127.0.0.1", "--port", port, ...persist, ...process.argv.slice(2)],
  {
    stdio: "inherit",
    env,
  },
);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    watch.kill(sig);
    dev.kill(sig);
  });
}
dev.on("exit", (code) => {
  watch.kill("SIGTERM");
  process.exit(code ?? 0);
});
console.log(
  `Admin console: http://127.0.0.1:${port}/admin (sign in with a link: npm run -s token -- --role makerspace_admin --sub admin-1 --makerspace ms-1 --minutes 480 --console)`,
);
