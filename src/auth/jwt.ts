import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { Config } from "../config";
import { AppError } from "../lib/errors";
import { type Claims, ClaimsSchema, type Principal, ROLES, type Role } from "./principal";

const encoder = new TextEncoder();
const HMAC_HASH = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" } as const;
const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key is imported once per isolate, not once per request. */
function verificationKey(config: Config): Promise<CryptoKey> {
  const id = `${config.JWT_ALGORITHM}:${config.JWT_SECRET_KEY}`;
  let key = keys.get(id);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(config.JWT_SECRET_KEY),
      { name: "HMAC", hash: HMAC_HASH[config.JWT_ALGORITHM] },
      false,
      ["sign", "verify"],
    );
    keys.set(id, key);
  }
  return key;
}

/**
 * Tokens already verified by this isolate, until their `exp`: kiosks and controllers send the
 * same token thousands of times, and the signature check is the largest fixed cost of a check.
 * Keyed by the whole compact token (signature included) and by the settings that judged it,
 * so a hit means exactly this token passed exactly these checks. Bounded; oldest dropped first.
 */
const VERIFIED_MAX = 10_000;
const verified = new Map<string, { principal: Principal; exp: number }>();

function rememberVerified(cacheKey: string, principal: Principal, exp: number): void {
  if (verified.size >= VERIFIED_MAX) {
    const oldest = verified.keys().next().value;
    if (oldest !== undefined) verified.delete(oldest);
  }
  verified.set(cacheKey, { principal, exp });
}

function unauthorized(detail = "Invalid or missing token"): AppError {
  return new AppError("unauthorized", detail);
}

/** Reads `Authorization: Bearer <jwt>`; anything else is 401. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw unauthorized("Missing bearer token");
  const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthorized("Malformed authorization header");
  return match[1];
}

/**
 * Verifies signature (only the configured HMAC algorithm: `none` and asymmetric algorithms are
 * refused), `exp` (required), `nbf`, and `iss`/`aud` when configured, then the claim shapes.
 * A valid token with an unknown role is a 403, not a 401: the caller is known, the call is not allowed.
 */
export async function verifyToken(token: string, config: Config): Promise<Principal> {
  // The secret is part of the key: a token verified under one secret is not trusted under another.
  const cacheKey = `${config.JWT_ALGORITHM}|${config.JWT_SECRET_KEY}|${config.JWT_ISSUER ?? ""}|${config.JWT_AUDIENCE ?? ""}|${token}`;
  const hit = verified.get(cacheKey);
  if (hit) {
    if (hit.exp * 1000 > Date.now()) return { ...hit.principal };
    verified.delete(cacheKey);
    throw unauthorized("Token has expired");
  }
  let payload: unknown;
  try {
    const result = await jwtVerify(token, await verificationKey(config), {
      algorithms: [config.JWT_ALGORITHM],
      requiredClaims: ["exp", "sub"],
      ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
      ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
    });
    payload = result.payload;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthorized("Token has expired");
    throw unauthorized();
  }
  const parsed = ClaimsSchema.safeParse(payload);
  if (!parsed.success) throw unauthorized("Token is missing required claims");
  const principal = toPrincipal(parsed.data);
  rememberVerified(cacheKey, principal, parsed.data.exp);
  return { ...principal };
}

function toPrincipal(claims: Claims): Principal {
  if (!(ROLES as readonly string[]).includes(claims.role)) {
    throw new AppError("forbidden", "Unknown role");
  }
  const role = claims.role as Role;
  if (role !== "super_admin" && !claims.makerspace_id) {
    throw unauthorized("Token is missing required claims");
  }
  return {
    sub: claims.sub,
    role,
    makerspaceId: claims.makerspace_id ?? null,
    ...(claims.jti ? { jti: claims.jti } : {}),
    ...(claims.device_kind ? { deviceKind: claims.device_kind } : {}),
  };
}

export interface MintOptions {
  sub: string;
  role: string;
  makerspaceId?: string | null;
  lifetimeSeconds: number;
  jti?: string;
  deviceKind?: string;
  extra?: Record<string, unknown>;
}

/** Signs a token the way this service verifies it (used for device tokens and by tests/scripts). */
export async function mintToken(config: Config, opts: MintOptions): Promise<string> {
  const jwt = new SignJWT({
    role: opts.role,
    ...(opts.makerspaceId ? { makerspace_id: opts.makerspaceId } : {}),
    ...(opts.deviceKind ? { device_kind: opts.deviceKind } : {}),
    ...opts.extra,
  })
    .setProtectedHeader({ alg: config.JWT_ALGORITHM, typ: "JWT" })
    .setSubject(opts.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + opts.lifetimeSeconds);
  if (opts.jti) jwt.setJti(opts.jti);
  if (config.JWT_ISSUER) jwt.setIssuer(config.JWT_ISSUER);
  if (config.JWT_AUDIENCE) jwt.setAudience(config.JWT_AUDIENCE);
  return jwt.sign(await verificationKey(config));
}
