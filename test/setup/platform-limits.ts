import { env } from "cloudflare:workers";
import { d1WithProductionLimits } from "../helpers/d1-limits";
import { rateLimitedKv } from "../helpers/rate-limited-kv";

// Every test runs against production's limits where local bindings are laxer: KV's one write per
// second per key, D1's 100 KB statements. The Worker gets this env (test/helpers/http.ts), and
// helpers that spread or wrap it keep the limited bindings.
env.USER_SKILLS_CACHE = rateLimitedKv(env.USER_SKILLS_CACHE);
env.DB = d1WithProductionLimits(env.DB);
