import type { ClientResponse } from "hono/client";
import { makrcaveClient } from "../../src/client";
import { auth } from "./auth";

/** The API's typed client (Hono's `hc` over the Worker's routes) with the signed-in person's token. */
export function api() {
  return makrcaveClient(window.location.origin, { token: auth.get().token ?? undefined });
}

export interface FieldError {
  path: string;
  message: string;
}

/** An API error as the API words it ({ detail, status_code, error_type }, and `errors` for a 422). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
  /** The message of a 422 at this field, if any. */
  at(field: string): string | undefined {
    return this.errors.find((e) => e.path === field || e.path.startsWith(`${field}.`))?.message;
  }
}

type Success<R> =
  R extends ClientResponse<infer T, infer S, infer _F> ? (S extends 200 | 201 | 204 ? T : never) : never;

/**
 * The body of a successful answer, typed from the route's declaration; any other answer throws
 * an ApiError. A 401 also marks the session expired, which opens the sign-in over the screen.
 */
export async function ok<R extends ClientResponse<unknown, number, string>>(call: Promise<R>): Promise<Success<R>> {
  let res: R;
  try {
    res = await call;
  } catch {
    throw new ApiError(0, "network", "The service cannot be reached. Check the connection and try again.");
  }
  if (res.status === 204) return undefined as Success<R>;
  if (res.ok) return (await res.json()) as Success<R>;
  let body: { detail?: unknown; error_type?: unknown; errors?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON: worded below
  }
  if (res.status === 401) auth.markExpired();
  const detail = typeof body.detail === "string" ? body.detail : `The service answered ${res.status}.`;
  throw new ApiError(
    res.status,
    typeof body.error_type === "string" ? body.error_type : "error",
    detail,
    Array.isArray(body.errors) ? (body.errors as FieldError[]) : [],
  );
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return "Your sign-in has expired. Sign in again to continue.";
    const fields = err.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    return fields ? `${err.message} (${fields})` : err.message;
  }
  return "Something went wrong. Try again.";
}
