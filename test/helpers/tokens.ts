import { env } from "cloudflare:workers";
import { SignJWT } from "jose";

export interface TokenOptions {
  role?: string;
  sub?: string;
  makerspace?: string | null;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  claims?: Record<string, unknown>;
  secret?: string;
  alg?: string;
}

/** Mints a token the way `npm run token` does, signed with the test secret. */
export async function token(opts: TokenOptions = {}): Promise<string> {
  const makerspace = opts.makerspace === undefined ? "ms-1" : opts.makerspace;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    role: opts.role ?? "makerspace_admin",
    ...(makerspace ? { makerspace_id: makerspace } : {}),
    ...opts.claims,
  })
    .setProtectedHeader({ alg: opts.alg ?? "HS256", typ: "JWT" })
    .setSubject(opts.sub ?? "admin-1")
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresIn ?? 600))
    .sign(new TextEncoder().encode(opts.secret ?? env.JWT_SECRET_KEY));
}

export const admin = (makerspace = "ms-1", sub = "admin-1") => token({ role: "makerspace_admin", sub, makerspace });
export const superAdmin = (sub = "root-1") => token({ role: "super_admin", sub, makerspace: null });
export const member = (sub = "user-1", makerspace = "ms-1") => token({ role: "member", sub, makerspace });
export const device = (sub = "device-1", makerspace = "ms-1", deviceKind?: string) =>
  token({ role: "device", sub, makerspace, claims: deviceKind ? { device_kind: deviceKind } : {} });
