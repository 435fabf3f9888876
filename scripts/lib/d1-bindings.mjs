// The D1 databases of wrangler.toml (top level or one [env.*]): the directory and every shard.
import { unstable_readConfig } from "wrangler";

/**
 * One entry per distinct database, named by the first binding that uses it (DIRECTORY and SHARD_0
 * share one: it is migrated once), in the order of wrangler.toml. Every one of them gets every
 * migration: one schema everywhere, empty tables where unused.
 */
export function d1Databases({ config = "wrangler.toml", env } = {}) {
  const { d1_databases: all = [] } = unstable_readConfig({ config, env }, { hideWarnings: true });
  const seen = new Map();
  for (const db of all) {
    const key = db.database_id ?? db.database_name ?? db.binding;
    if (seen.has(key)) seen.get(key).bindings.push(db.binding);
    else seen.set(key, { binding: db.binding, bindings: [db.binding], databaseName: db.database_name });
  }
  return [...seen.values()];
}
