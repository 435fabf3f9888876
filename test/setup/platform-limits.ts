import { env } from "cloudflare:workers";
import { d1Bindings } from "../helpers/d1-hooks";
import { d1WithProductionLimits } from "../helpers/d1-limits";
import { rateLimitedKv } from "../helpers/rate-limited-kv";

// Every test runs against production's limits where local bindings are laxer: KV's one write per
// second per key, D1's 100 KB statements (on the directory and every shard, and their sessions).
// The Worker gets this env (test/helpers/http.ts), and helpers that spread or wrap it keep the
// limited bindings.
env.USER_SKILLS_CACHE = rateLimitedKv(env.USER_SKILLS_CACHE);
const bindings = env as unknown as Record<string, D1Database>;
for (const [name, db] of Object.entries(d1Bindings())) bindings[name] = d1WithProductionLimits(db);
