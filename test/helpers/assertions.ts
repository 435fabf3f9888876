import { expect } from "vitest";

export interface JsonResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

/**
 * Asserts the contract's error body (docs/API.md, "Errors"): exactly `detail`, `status_code`,
 * `error_type`, plus the listed extra fields and nothing else.
 */
export function expectError(
  res: JsonResponse,
  status: number,
  errorType: string,
  extra: Record<string, unknown> = {},
): void {
  const context = JSON.stringify(res.body);
  expect(res.status, context).toBe(status);
  expect(res.body, context).toEqual({
    detail: expect.any(String),
    status_code: status,
    error_type: errorType,
    ...extra,
  });
  expect((res.body as { detail: string }).detail.length, context).toBeGreaterThan(0);
  expect(res.headers.get("content-type"), context).toMatch(/^application\/json/);
  expect(res.headers.get("x-request-id"), context).toBeTruthy();
}

/** A 422 `validation_error` whose `errors[]` names exactly these paths (order ignored). */
export function expectValidation(res: JsonResponse, paths: string[]): void {
  expectError(res, 422, "validation_error", {
    errors: expect.arrayContaining(paths.map((path) => ({ path, message: expect.any(String) }))),
  });
  const got = (res.body as { errors: { path: string }[] }).errors.map((e) => e.path);
  expect([...new Set(got)].sort(), JSON.stringify(res.body)).toEqual([...new Set(paths)].sort());
}

/** 401 with the challenge header docs/API.md requires. */
export function expectUnauthorized(res: JsonResponse): void {
  expectError(res, 401, "unauthorized");
  expect(res.headers.get("www-authenticate") ?? "").toMatch(/^Bearer\b/);
}
