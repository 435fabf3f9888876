import type { Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../platform/context";
import { AppError } from "../platform/errors";
import { createLogger, errorFields, errorText } from "../platform/logger";

/** When a client should ask again after a 503 (the database not reachable or not migrated yet). */
const RETRY_AFTER_SECONDS = "5";

/**
 * The one exit for failures. AppErrors become the contract's body; Hono's own exceptions
 * (malformed JSON) map to their contract type; anything else is logged with the request id and
 * answered with a generic 500 — never a stack trace, SQL text or secret.
 */
export function onError(err: Error, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  const appError = toAppError(err, requestId);
  if (appError.type === "internal_error" || appError.type === "unavailable") {
    const logger = c.get("logger") ?? createLogger({ request_id: requestId });
    const where = { method: c.req.method, path: c.req.path };
    if (appError.type === "internal_error") logger.error("unhandled error", { ...errorFields(err), ...where });
    else if (appError.cause !== undefined) {
      logger.warn("database unavailable through the read retries", { error: errorText(appError.cause), ...where });
    } else logger.warn("unavailable", { detail: appError.message, ...where });
  }
  const headers: Record<string, string> = { "x-request-id": requestId, "x-content-type-options": "nosniff" };
  if (appError.status === 401) headers["www-authenticate"] = 'Bearer realm="makrcave"';
  if (appError.status === 429) headers["retry-after"] = String(appError.extra.retry_after);
  else if (appError.retryAfterSeconds !== undefined) headers["retry-after"] = String(appError.retryAfterSeconds);
  else if (appError.status === 503) headers["retry-after"] = RETRY_AFTER_SECONDS;
  return c.json(appError.toBody(), appError.status, headers);
}

/** The AppError itself, or one a library wrapped (Drizzle wraps a failed query's error as its cause). */
function findAppError(err: unknown): AppError | undefined {
  const seen = new Set<unknown>();
  for (let cur = err; cur instanceof Error && !seen.has(cur); cur = cur.cause) {
    if (cur instanceof AppError) return cur;
    seen.add(cur);
  }
  return undefined;
}

function toAppError(err: Error, requestId: string): AppError {
  const found = findAppError(err);
  if (found) return found;
  if (err instanceof HTTPException) {
    if (err.status === 400) return new AppError("bad_request", "Request body is not valid JSON");
    if (err.status === 413) return new AppError("payload_too_large", "Request body is larger than 64 KiB");
    if (err.status === 401) return new AppError("unauthorized", "Invalid or missing token");
  }
  return new AppError("internal_error", "Internal server error", { request_id: requestId });
}

interface RouteEntry {
  method: string;
  pattern: RegExp;
}

/** The app's own route table, compiled once (routes are all registered before the first request). */
function routeTable(app: Hono<AppEnv>): () => RouteEntry[] {
  let table: RouteEntry[] | undefined;
  return () =>
    (table ??= app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(
          `^${r.path
            .replace(/\/+$/, "")
            .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
            .replace(/:[A-Za-z0-9_]+/g, "[^/]+")}/?$`,
        ),
      })));
}

function methodNotAllowed(c: Context<AppEnv>, allowed: string[]): Response {
  const err = new AppError("method_not_allowed", "Method not allowed");
  return c.json(err.toBody(), 405, { allow: allowed.join(", ") });
}

/**
 * A path that names a fixed resource (`/skills/user-skills`, `/badges/resolve`) is that resource
 * for every method: a method it does not serve is 405, not a `/:id` route of its parent taking the
 * name for an id (which would answer `PUT /skills/user-skills` with "Skill not found").
 */
export function fixedPathMethods(app: Hono<AppEnv>) {
  let fixed: Map<string, string[]> | undefined;
  const normalise = (path: string) => path.replace(/\/+$/, "") || "/";
  return createMiddleware<AppEnv>(async (c, next) => {
    fixed ??= app.routes
      .filter((r) => r.method !== "ALL" && !/[:*]/.test(r.path))
      .reduce((map, r) => {
        const key = normalise(r.path);
        map.set(key, [...new Set([...(map.get(key) ?? []), r.method])]);
        return map;
      }, new Map<string, string[]>());
    const path = c.req.path;
    const allowed = fixed.get(path.endsWith("/") ? normalise(path) : path);
    if (!allowed) return next();
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    if (method !== "OPTIONS" && !allowed.includes(method)) return methodNotAllowed(c, allowed);
    await next();
  });
}

/** Unknown path → 404 `not_found`; a known path with another method → 405 `method_not_allowed`. */
export function notFoundOrMethodNotAllowed(app: Hono<AppEnv>) {
  const table = routeTable(app);
  return (c: Context<AppEnv>): Response => {
    const path = c.req.path;
    const allowed = [
      ...new Set(
        table()
          .filter((r) => r.pattern.test(path))
          .map((r) => r.method),
      ),
    ];
    if (allowed.length > 0) return methodNotAllowed(c, allowed);
    const err = new AppError("not_found", "Not found");
    return c.json(err.toBody(), 404);
  };
}
