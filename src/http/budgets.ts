import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { DeviceKind, Principal } from "../identity/principal";
import type { AppEnv } from "../platform/context";
import { AppError } from "../platform/errors";
import { type Call, spend, take } from "./budgets-policy";

/**
 * A budget a route counts against besides the caller budget every authenticated route has:
 * - `makerspace`: a heavy call (import, export, webhook test), counted per makerspace;
 * - `badge`: a card lookup whenever the body names a `badge_uid`, counted per device, and
 *   counted twice when the card is unknown.
 */
export type RouteBudget = "makerspace" | "badge";

const callOf = (c: Context<AppEnv>): Call => ({ method: c.req.method, path: c.req.path, caller: c.get("principal") });

function exempt(p: Principal, kinds: readonly DeviceKind[]): boolean {
  return p.role === "device" && p.registered === true && p.deviceKind !== undefined && kinds.includes(p.deviceKind);
}

/**
 * The caller budget, keyed by the token's `sub`. It runs before the role check and validation, so
 * every authenticated request to a route counts, refused ones included; registered devices of the
 * `exempt` kinds are not counted at all (a door must not lock out a queue of members).
 */
export function callerBudget(exemptKinds: readonly DeviceKind[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const p = c.get("principal");
    if (!exempt(p, exemptKinds)) await spend(c.get("deps"), "caller", p.sub, callOf(c));
    await next();
  });
}

/** A super_admin belongs to no makerspace: its heavy calls count in a budget of its own. */
function makerspaceKey(p: Principal): string {
  return p.makerspaceId !== null ? `ms:${p.makerspaceId}` : `super_admin:${p.sub}`;
}

/** Does the body name a card? Read before validation; Hono keeps the body for the validator. */
async function namesBadge(c: Context<AppEnv>): Promise<boolean> {
  if (c.req.method === "GET" || c.req.method === "HEAD") return false;
  const body: unknown = await c.req.json().catch(() => undefined);
  return typeof body === "object" && body !== null && typeof (body as { badge_uid?: unknown }).badge_uid === "string";
}

/** An answer that says the card is unknown: `resolve`'s 404, or `verify`'s `unknown_badge` denial. */
function unknownBadge(err: Error | undefined): boolean {
  return err instanceof AppError && (err.type === "badge_not_found" || err.extra.denial === "unknown_badge");
}

/**
 * The route's own budget, after the role check (a caller refused the route spends nothing of its
 * makerspace's or device's budget). The badge budget is spent before the lookup, so a device over
 * it learns nothing; an unknown card then costs a second unit, which is what slows enumeration.
 */
export function routeBudget(budget: RouteBudget) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const deps = c.get("deps");
    const p = c.get("principal");
    if (budget === "makerspace") {
      await spend(deps, "makerspace", makerspaceKey(p), callOf(c));
      return next();
    }
    if (!(await namesBadge(c))) return next();
    await spend(deps, "badge", p.sub, callOf(c));
    await next();
    if (unknownBadge(c.error)) await take(deps, "badge", p.sub);
  });
}
