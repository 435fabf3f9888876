import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../platform/context";
import { buildDeps } from "../platform/deps";
import { createLogger } from "../platform/logger";

const REQUEST_ID = /^[A-Za-z0-9._-]{8,100}$/;
const SLOW_MS = 1000;

/**
 * First middleware: request id (kept from `x-request-id` when well-formed), the headers every
 * response carries — set before the handler runs, so Hono builds the response once with them —
 * and the log line of a slow (> 1 s, as the design's monitoring middleware) or failed request.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  const logger = createLogger({ request_id: requestId });
  c.set("requestId", requestId);
  c.set("logger", logger);
  c.header("x-request-id", requestId);
  c.header("x-content-type-options", "nosniff");
  if (c.req.header("authorization")) c.header("cache-control", "no-store");
  const started = Date.now();
  await next();
  const ms = Date.now() - started;
  if (ms > SLOW_MS) logger.warn("slow request", { method: c.req.method, path: c.req.path, status: c.res.status, ms });
  else if (c.res.status >= 500)
    logger.error("request failed", { method: c.req.method, path: c.req.path, status: c.res.status, ms });
});

/** Validates configuration (fail closed) and builds the per-request dependencies. */
export const requestDeps = createMiddleware<AppEnv>(async (c, next) => {
  c.set("deps", buildDeps(c.env, c.executionCtx, c.get("requestId"), { logger: c.get("logger") }));
  await next();
});
