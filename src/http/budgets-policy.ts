import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { AppError } from "../platform/errors";
import { errorText } from "../platform/logger";

/**
 * The per-caller budgets, each counted by a Rate Limiting binding of its own (wrangler.toml):
 * - `caller`: every authenticated request, keyed by the token's `sub`;
 * - `badge`: card lookups (`POST /badges/resolve`, `verify` by `badge_uid`), keyed by the caller's
 *   `sub` — the device id for a controller or kiosk; an unknown card costs two;
 * - `makerspace`: heavy calls (imports, exports, webhook tests), keyed by makerspace.
 *
 * A binding's limit and period are static configuration that the Worker cannot read, so each
 * budget's variable must repeat the binding's per-minute limit (`npm run typecheck` compares them
 * in every environment); `0` turns the budget off without touching the binding.
 */
export const BUDGETS = {
  caller: {
    binding: "CALLER_BUDGET",
    variable: "RATE_CALLER_PER_MINUTE",
    detail: (n: number) => `Too many requests: ${n} a minute per caller`,
  },
  badge: {
    binding: "BADGE_BUDGET",
    variable: "RATE_BADGE_PER_MINUTE",
    detail: (n: number) => `Too many badge lookups: ${n} a minute per device`,
  },
  makerspace: {
    binding: "MAKERSPACE_BUDGET",
    variable: "RATE_MAKERSPACE_PER_MINUTE",
    detail: (n: number) => `Too many imports, exports and webhook tests: ${n} a minute per makerspace`,
  },
} as const;

export type BudgetName = keyof typeof BUDGETS;
export const BUDGET_NAMES = Object.keys(BUDGETS) as BudgetName[];

/** The bindings count per minute (`period = 60` in wrangler.toml). */
const PERIOD_SECONDS = 60;

/**
 * Seconds until the current one-minute window ends (1–60): when a refused caller may ask again.
 * Miniflare's emulation counts in windows aligned to the clock; Cloudflare's counters are
 * approximate, so this is a good estimate rather than a promise.
 */
export function retryAfterSeconds(now: Date): number {
  return PERIOD_SECONDS - (Math.floor(now.getTime() / 1000) % PERIOD_SECONDS);
}

/**
 * 429s answered by this isolate since it started counting, per budget. Each Worker isolate keeps
 * its own (there is no shared counter to write on every refusal); the log has every one of them.
 */
const refused: Record<BudgetName, number> = { caller: 0, badge: 0, makerspace: 0 };
let countingSince: string | undefined;

export interface RefusalCounts extends Record<BudgetName, number> {
  /** When this isolate started counting (its first refusal or its first report). */
  since: string;
}

export function refusalCounts(now: Date): RefusalCounts {
  countingSince ??= now.toISOString();
  return { ...refused, since: countingSince };
}

/**
 * Counts one unit of `budget` for `key`: true while within the budget (or the budget is off).
 * A limiter that fails lets the call through and logs it: a door must not lock because
 * Cloudflare's counter could not be reached.
 */
export async function take(deps: Deps, budget: BudgetName, key: string): Promise<boolean> {
  const { binding, variable } = BUDGETS[budget];
  if (deps.config[variable] === 0) return true;
  try {
    return (await deps.env[binding].limit({ key })).success;
  } catch (err) {
    deps.logger.error("budget not counted", { budget, error: errorText(err) });
    return true;
  }
}

/** The request a refusal is logged with (never its token, body or query). */
export interface Call {
  method: string;
  path: string;
  caller: Principal;
}

/** {@link take}, and a 429 `rate_limited` (logged with the caller, counted) when over the budget. */
export async function spend(deps: Deps, budget: BudgetName, key: string, call: Call): Promise<void> {
  if (await take(deps, budget, key)) return;
  countingSince ??= deps.now.toISOString();
  refused[budget] += 1;
  const retryAfter = retryAfterSeconds(deps.now);
  const { caller } = call;
  deps.logger.warn("rate limited", {
    budget,
    method: call.method,
    path: call.path,
    sub: caller.sub,
    role: caller.role,
    makerspace_id: caller.makerspaceId,
    ...(caller.deviceKind ? { device_kind: caller.deviceKind } : {}),
    ...(budget === "makerspace" ? { key } : {}),
    retry_after: retryAfter,
  });
  const { variable, detail } = BUDGETS[budget];
  throw new AppError("rate_limited", detail(deps.config[variable]), { retry_after: retryAfter });
}
