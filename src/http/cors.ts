import { createMiddleware } from "hono/factory";
import { loadConfig } from "../platform/config";
import type { AppEnv } from "../platform/context";
import { CONSISTENCY_HEADER } from "../platform/db/sessions";

const ALLOW_METHODS = "GET,POST,PUT,DELETE,OPTIONS";
const ALLOW_HEADERS = `authorization,content-type,if-none-match,x-request-id,${CONSISTENCY_HEADER}`;
const EXPOSE_HEADERS = `etag,retry-after,x-request-id,${CONSISTENCY_HEADER}`;
const MAX_AGE_SECONDS = "600";

/**
 * CORS for `/api/*`: an origin listed in ALLOWED_ORIGINS is echoed back (never a wildcard), on
 * successes and errors alike; a preflight is answered 204 before authentication. Every header is
 * set before the handler runs, so the response is built once with them (setting one after the
 * response exists makes Hono copy the whole response).
 */
export const cors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("origin");
  if (origin !== undefined && loadConfig(c.env).ALLOWED_ORIGINS.includes(origin)) {
    c.header("access-control-allow-origin", origin);
  }
  c.header("access-control-expose-headers", EXPOSE_HEADERS);
  c.header("vary", "Origin");
  if (c.req.method !== "OPTIONS") return next();
  c.header("access-control-max-age", MAX_AGE_SECONDS);
  c.header("access-control-allow-methods", ALLOW_METHODS);
  c.header("access-control-allow-headers", ALLOW_HEADERS);
  c.header("vary", "Access-Control-Request-Headers", { append: true });
  return c.body(null, 204);
});
