import { AppError } from "../platform/errors";
import type { Principal } from "./principal";

/**
 * Who may call a route, as data on the route itself: the middleware enforces it, `/openapi.json`
 * shows it (`x-access`) and `npm run routes` prints it, so the role table is read from one place.
 *
 * Callers are roles, plus two narrower kinds:
 * - `kiosk`: a device whose token says `device_kind: kiosk`;
 * - `instructor`: a member assigned to the skill the call is about (the assignment is read on
 *   every call; the service checks the skill against it).
 */
export const CALLERS = ["super_admin", "makerspace_admin", "member", "instructor", "device", "kiosk"] as const;
export type Caller = (typeof CALLERS)[number];

/**
 * How a call is limited for the callers it applies to, checked on the validated request:
 * - `makerspace`: a `makerspace_id` in the query or body must be the caller's own (403), except
 *   for a super_admin;
 * - `own-user`: a member naming a `user_id` in the query or body must name itself (403);
 * - `device-equipment`: a device registered for some equipment may name only those items (403);
 * - `device-self`: only the device named in the path may call (403, before the body is read).
 */
export const SCOPES = ["makerspace", "own-user", "device-equipment", "device-self"] as const;
export type ScopeRule = (typeof SCOPES)[number];

export type Access = { public: true } | { callers: readonly Caller[]; scope: readonly ScopeRule[] };

export const ADMINS = ["super_admin", "makerspace_admin"] as const satisfies readonly Caller[];
export const EVERY_ROLE = ["super_admin", "makerspace_admin", "member", "device"] as const satisfies readonly Caller[];

/** Does this principal count as one of these callers? (`instructor` is narrowed later by skill.) */
export function isCaller(p: Principal, callers: readonly Caller[]): boolean {
  for (const caller of callers) {
    if (caller === p.role) return true;
    if (caller === "kiosk" && p.role === "device" && p.deviceKind === "kiosk") return true;
    if (caller === "instructor" && p.role === "member") return true;
  }
  return false;
}

/** The role check, run before the request is validated: a caller who may not call learns nothing. */
export function assertCaller(p: Principal, access: Access): void {
  if ("public" in access) return;
  if (!isCaller(p, access.callers)) throw new AppError("forbidden", "Not allowed for this role");
}

/** One line for docs and `npm run routes`, e.g. `super_admin, makerspace_admin · makerspace`. */
export function describeAccess(access: Access): string {
  if ("public" in access) return "public (no token)";
  const scope = access.scope.length > 0 ? ` · ${access.scope.join(", ")}` : "";
  return `${access.callers.join(", ")}${scope}`;
}
