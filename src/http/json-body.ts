import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../platform/context";
import { rawBodyLimit } from "./body-limits";

const JSON_TYPE = /^application\/([\w.-]+\+)?json\b/i;

/**
 * Every request body of this API is JSON (docs/API.md), so it is read as JSON whatever the
 * Content-Type says — `curl -d` without `-H` gets its body validated, not a list of "missing"
 * fields — and an empty body with `Content-Type: application/json` counts as no body (a revoke or
 * rotate sent by a client that always sets the header) instead of malformed JSON. The common case,
 * a JSON body with its length declared, passes untouched. Routes that take another format (the CSV
 * import, see body-limits.ts) read their body as sent.
 */
export const jsonBody = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
  if (rawBodyLimit(c.req.path) !== undefined) return next();
  const type = c.req.header("content-type") ?? "";
  const length = c.req.header("content-length");
  if (JSON_TYPE.test(type) && length !== undefined && length !== "0") return next();

  // Read as bytes: workerd warns on `text()` of a body declared as a form (`curl -d`'s default).
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  const headers = new Headers(c.req.raw.headers);
  if (text.trim() === "") headers.delete("content-type");
  else headers.set("content-type", "application/json");
  // The validator reads the header from the raw request and the body from Hono's body cache.
  c.req.raw = new Request(c.req.raw.url, { method, headers });
  await next();
});
