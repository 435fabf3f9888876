import { AppError, type ErrorType } from "../platform/errors";
import type { Principal } from "./principal";

/**
 * Tenancy rules. Roles are declared on each route (src/identity/access.ts); these are what remains
 * for the scope checks and the services:
 * - a resource of another makerspace asked for by id → 404 of that resource (existence not leaked);
 * - a filter or body naming another makerspace → 403.
 */

/** May the caller see rows of this makerspace? */
export function inMakerspace(p: Principal, makerspaceId: string): boolean {
  return p.role === "super_admin" || p.makerspaceId === makerspaceId;
}

/** A makerspace named in a filter or a body: 403 when it is not the caller's. */
export function assertMakerspace(p: Principal, makerspaceId: string): void {
  if (!inMakerspace(p, makerspaceId)) throw new AppError("forbidden", "Not allowed for this makerspace");
}

/**
 * The makerspace a list is scoped to: the filter when given (checked), else the caller's own.
 * `undefined` only for a super_admin without a filter (every makerspace).
 */
export function scopeMakerspace(p: Principal, requested: string | undefined): string | undefined {
  if (requested !== undefined) {
    assertMakerspace(p, requested);
    return requested;
  }
  return p.makerspaceId ?? undefined;
}

/** Returns the row when the caller may see it, else throws the resource's 404. */
export function visibleOr404<T extends { makerspaceId: string }>(
  p: Principal,
  row: T | undefined | null,
  type: ErrorType,
  detail: string,
): T {
  if (!row || !inMakerspace(p, row.makerspaceId)) throw new AppError(type, detail);
  return row;
}

/**
 * The equipment a registered device is limited to, or null when the caller may act for every
 * item of its makerspace (every non-device caller, and devices registered without a list).
 */
export function deviceEquipmentScope(p: Principal): ReadonlySet<string> | null {
  return p.role === "device" && p.deviceEquipmentIds && p.deviceEquipmentIds.length > 0
    ? new Set(p.deviceEquipmentIds)
    : null;
}

/** A registered device limited to some equipment acts only for those items. */
export function assertDeviceMayUse(p: Principal, equipmentId: string): void {
  const scope = deviceEquipmentScope(p);
  if (scope && !scope.has(equipmentId)) {
    throw new AppError("forbidden", "This device is not registered for this equipment");
  }
}

/**
 * Whose certifications or requests a list reads: a member only its own (a member naming another
 * user is refused by the route's `own-user` scope, or by `listScope` where instructors may call,
 * which also widens this for them), others the user named or everyone. The makerspace is the
 * filter (checked) or the caller's own.
 */
export function readerScope(
  actor: Principal,
  q: { user_id?: string; makerspace_id?: string },
): { userId: string | undefined; makerspaceId: string | undefined } {
  return {
    userId: actor.role === "member" ? actor.sub : q.user_id,
    makerspaceId: scopeMakerspace(actor, q.makerspace_id),
  };
}
