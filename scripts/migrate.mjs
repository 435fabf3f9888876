// npm run db:migrate:local / predeploy: applies migrations/ to the directory and every shard
// declared in wrangler.toml, each database once, with `wrangler d1 migrations apply`.
//   node scripts/migrate.mjs --local [--persist-to DIR]
//   node scripts/migrate.mjs --remote --env production
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { d1Databases } from "./lib/d1-bindings.mjs";

const { values } = parseArgs({
  options: {
    local: { type: "boolean", default: false },
    remote: { type: "boolean", default: false },
    env: { type: "string" },
    "persist-to": { type: "string" },
  },
});
if (values.local === values.remote) {
  console.error("usage: node scripts/migrate.mjs --local [--persist-to DIR] | --remote [--env NAME]");
  process.exit(2);
}
const where = values.local ? ["--local"] : ["--remote"];
const envArgs = values.env ? ["--env", values.env] : [];
const persist = values["persist-to"] ? ["--persist-to", values["persist-to"]] : [];
const databases = d1Databases({ env: values.env });
for (const db of databases) {
  const label = db.bindings.join(" = ");
  console.log(`Migrating ${label} (${db.databaseName})`);
  const res = spawnSync(
    "npx",
    ["wrangler", "d1", "migrations", "apply", db.binding, ...where, ...envArgs, ...persist],
    {
      stdio: "inherit",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  if (res.status !== 0) {
    console.error(`migrations failed on ${label}; the databases before it are migrated, the rest are not`);
    process.exit(res.status ?? 1);
  }
}
console.log(`${databases.length} database(s) migrated: ${databases.map((d) => d.bindings.join(" = ")).join(", ")}`);
