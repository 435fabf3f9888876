import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** A raw body sent as-is (for malformed JSON, size and non-JSON bodies). */
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Bindings to use instead of the test env (config overrides, counting wrappers). */
  env?: Env;
}

/**
 * Sends a request through the Worker's own fetch handler, as a client would, and waits for
 * its `waitUntil` work (queue sends, audit fallbacks) before returning.
 */
export async function call(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Uint8Array | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["content-type"] = "application/json";
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://localhost${path}`, { method, headers, body }),
    opts.env ?? env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/**
 * A response body as UTF-8 text, read as bytes: workerd warns when `text()` reads a type it does
 * not know as text (the audit export's NDJSON).
 */
export async function bodyText(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}

/** `call` and parse JSON, asserting nothing: tests assert on status and body themselves. */
export async function callJson<T = Record<string, unknown>>(
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await call(method, path, opts);
  const text = await bodyText(res);
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

/** The test env with some variables replaced (config is parsed per env object). */
export function envWith(vars: Partial<Record<keyof Env, string>>): Env {
  return { ...env, ...vars } as Env;
}
