import { AppError, type ErrorType } from "../lib/errors";
import type { Principal, Role } from "./principal";

/**
 * Role and tenancy rules (API.md section 1), used by every route:
 * - a role that may not make the call → 403 `forbidden`;
 * - a resource of another makerspace asked for by id → 404 of that resource (existence not leaked);
 * - a filter or body naming another makerspace → 403.
 */
export function requireRole(p: Principal, ...roles: Role[]): void {
  if (!roles.includes(p.role)) throw new AppError("forbidden", "Not allowed for this role");
}

export const ADMIN_ROLES: Role[] = ["super_admin", "makerspace_admin"];

export function isAdmin(p: Principal): boolean {
  return p.role === "super_admin" || p.role === "makerspace_admin";
}

/** Kiosks may do a little more than other devices for members of their makerspace (API.md section 10). */
export function isKioskDevice(p: Principal): boolean {
  return p.role === "device" && p.deviceKind === "kiosk";
}

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
 * A registered device limited to some equipment acts only for those items (API.md section 8);
 * every other caller passes.
 */
/**
 * The equipment a registered device is limited to, or null when the caller may act for every
 * item of its makerspace (every non-device caller, and devices registered without a list).
 */
export function deviceEquipmentScope(p: Principal): ReadonlySet<string> | null {
  return p.role === "device" && p.deviceEquipmentIds && p.deviceEquipmentIds.length > 0
    ? new Set(p.deviceEquipmentIds)
    : null;
}

/** A registered device limited to some equipment acts only for those items (API.md section 8). */
export function assertDeviceMayUse(p: Principal, equipmentId: string): void {
  const scope = deviceEquipmentScope(p);
  if (scope && !scope.has(equipmentId)) {
    throw new AppError("forbidden", "This device is not registered for this equipment");
  }
}

/**
 * Who may read certifications and requests, and whose: admins and kiosk devices any user of their
 * makerspace; members only their own (naming another user is 403); other devices nothing.
 * Returns the user to filter on (undefined = every user) and the makerspace scope.
 */
export function readerScope(
  actor: Principal,
  q: { user_id?: string; makerspace_id?: string },
): { userId: string | undefined; makerspaceId: string | undefined } {
  if (actor.role === "member") {
    if (q.user_id !== undefined && q.user_id !== actor.sub) {
      throw new AppError("forbidden", "Members may only read their own records");
    }
    return { userId: actor.sub, makerspaceId: scopeMakerspace(actor, q.makerspace_id) };
  }
  if (!isAdmin(actor) && !isKioskDevice(actor)) throw new AppError("forbidden", "Not allowed for this role");
  return { userId: q.user_id, makerspaceId: scopeMakerspace(actor, q.makerspace_id) };
}

/** Role check before any lookup by id, so a door controller learns nothing about ids. */
export function assertMayRead(actor: Principal): void {
  if (actor.role !== "member" && !isAdmin(actor) && !isKioskDevice(actor)) {
    throw new AppError("forbidden", "Not allowed for this role");
  }
}

/** Another makerspace's row is 404; a member asking for another member's row is 403. */
export function assertRowReadable(
  actor: Principal,
  row: { userId: string; makerspaceId: string } | undefined,
  type: ErrorType,
  detail: string,
): void {
  if (!row || !inMakerspace(actor, row.makerspaceId)) throw new AppError(type, detail);
  if (actor.role === "member" && row.userId !== actor.sub) {
    throw new AppError("forbidden", "Members may only read their own records");
  }
}
