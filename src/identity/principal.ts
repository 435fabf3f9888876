import { z } from "zod";

export const ROLES = ["super_admin", "makerspace_admin", "member", "device"] as const;
export type Role = (typeof ROLES)[number];

export const DEVICE_KINDS = ["door", "machine", "kiosk"] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** The claims this service reads. `role` is checked against ROLES after the signature (403). */
export const ClaimsSchema = z.object({
  sub: z.string().min(1).max(200),
  role: z.string().min(1),
  makerspace_id: z.string().min(1).max(100).optional(),
  exp: z.number(),
  iat: z.number().optional(),
  jti: z.string().optional(),
  /** Device tokens name their kind (`kiosk` devices may do a little more: docs/API.md, "Kiosk"). */
  device_kind: z.enum(DEVICE_KINDS).optional(),
});
export type Claims = z.infer<typeof ClaimsSchema>;

/** Who is calling, after the token has been verified. */
export interface Principal {
  sub: string;
  role: Role;
  /** null only for super_admin. */
  makerspaceId: string | null;
  jti?: string;
  deviceKind?: DeviceKind;
  /** A device whose token matched its registered row (kind and equipment then come from the row). */
  registered?: boolean;
  /** For registered devices limited to some equipment; empty = every item of the makerspace. */
  deviceEquipmentIds?: string[];
}
