import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// The migrations in migrations/ are the only schema, for tests too.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
