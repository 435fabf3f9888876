import { env } from "cloudflare:workers";
import { rateLimitedKv } from "../helpers/rate-limited-kv";

// Every test sees production's KV limit of one write per second per key: the Worker gets this
// env (test/helpers/http.ts), and helpers that spread it keep the wrapped binding.
env.USER_SKILLS_CACHE = rateLimitedKv(env.USER_SKILLS_CACHE);
