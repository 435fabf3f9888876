// npm run start:local — the built Worker on Miniflare at http://127.0.0.1:$PORT (default 8787),
// local D1/KV/Queues, migrations applied, secrets from .dev.vars. Runs until SIGINT/SIGTERM.
// INSPECTOR_PORT opens the Worker's inspector there (CPU profiles: scripts/profile.mjs).
import { startLocalServer } from "./lib/local-server.mjs";

const port = Number(process.env.PORT ?? 8787);
// A few wrangler [vars] may be overridden from the environment, for test runs (e.g. the
// controller test's ALLOWLIST_TTL_SECONDS, the bench's budgets off).
const OVERRIDABLE = [
  "ALLOWLIST_TTL_SECONDS",
  "DEVICE_HEARTBEAT_SECONDS",
  "DEVICE_TOKEN_TTL_DAYS",
  "ALLOW_UNREGISTERED_DEVICES",
  "RATE_CALLER_PER_MINUTE",
  "RATE_BADGE_PER_MINUTE",
  "RATE_MAKERSPACE_PER_MINUTE",
  // The console's browser tests sign in through a local OpenID Connect provider.
  "OIDC_ISSUER",
  "OIDC_CLIENT_ID",
  "OIDC_SCOPES",
  "JWT_JWKS_URL",
  "JWT_AUDIENCE",
];
const vars = Object.fromEntries(OVERRIDABLE.filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
const inspectorPort = process.env.INSPECTOR_PORT ? Number(process.env.INSPECTOR_PORT) : undefined;
// SHARDS=N serves with only the first N shard bindings of wrangler.toml (npm run bench compares).
const shards = process.env.SHARDS ? Number(process.env.SHARDS) : undefined;
const server = await startLocalServer({
  port,
  persistDir: process.env.PERSIST_DIR ?? ".wrangler/state",
  vars,
  inspectorPort,
  shards,
});
console.log(`MakrCave Skills API (built Worker on Miniflare) listening on ${server.url}`);
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  });
}
