import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { expectError, type JsonResponse } from "./assertions";
import { type CallOptions, callJson } from "./http";

/** The small budgets of the tests (vitest.config.ts), counted per 10-second window. */
export const LIMITS = env.TEST_BUDGET_LIMITS;
const WINDOW_MS = 10_000;

type BudgetVariable = "RATE_CALLER_PER_MINUTE" | "RATE_BADGE_PER_MINUTE" | "RATE_MAKERSPACE_PER_MINUTE";

/**
 * The test env with the small TEST_* bindings in place of the deployed budgets, each variable
 * repeating its binding's limit as wrangler.toml requires (or set here, e.g. `"0"` to turn one off).
 */
export function budgetEnv(vars: Partial<Record<BudgetVariable | "ALLOW_UNREGISTERED_DEVICES", string>> = {}): Env {
  return {
    ...env,
    CALLER_BUDGET: env.TEST_CALLER_BUDGET,
    BADGE_BUDGET: env.TEST_BADGE_BUDGET,
    MAKERSPACE_BUDGET: env.TEST_MAKERSPACE_BUDGET,
    RATE_CALLER_PER_MINUTE: String(LIMITS.caller),
    RATE_BADGE_PER_MINUTE: String(LIMITS.badge),
    RATE_MAKERSPACE_PER_MINUTE: String(LIMITS.makerspace),
    ...vars,
  };
}

/**
 * Counters start over at every 10-second boundary (Miniflare aligns windows to the clock): a
 * burst that must land in one window first waits for a new one when less than `seconds` is left.
 */
export async function freshWindow(seconds = 4): Promise<void> {
  const left = WINDOW_MS - (Date.now() % WINDOW_MS);
  if (left < seconds * 1000) await new Promise((r) => setTimeout(r, left + 100));
}

/** `n` calls one after another (a burst from one client), their answers in order. */
export async function burst(n: number, method: string, path: string, opts: CallOptions): Promise<JsonResponse[]> {
  const out: JsonResponse[] = [];
  for (let i = 0; i < n; i++) out.push(await callJson(method, path, opts));
  return out;
}

export const statuses = (responses: JsonResponse[]) => responses.map((r) => r.status);

/** The contract's 429: `rate_limited` with `retry_after` in the body and the same `Retry-After` header. */
export function expectRateLimited(res: JsonResponse): void {
  expectError(res, 429, "rate_limited", { retry_after: expect.any(Number) });
  const { retry_after } = res.body as { retry_after: number };
  expect(Number.isInteger(retry_after) && retry_after >= 1 && retry_after <= 60, String(retry_after)).toBe(true);
  expect(res.headers.get("retry-after")).toBe(String(retry_after));
}

/** Asks again every half second until the answer is not a 429 (a spent window has passed). */
export async function untilServed(ask: () => Promise<JsonResponse>, timeoutMs = 15_000): Promise<JsonResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await ask();
    if (res.status !== 429 || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 500));
  }
}
