import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { d1Bindings } from "../helpers/d1-hooks";

// The migrations in migrations/ are the only schema, for tests too: the directory and every shard
// get them all (DIRECTORY and SHARD_0 are one database, so the second application finds them done).
for (const db of Object.values(d1Bindings())) await applyD1Migrations(db, env.TEST_MIGRATIONS);
