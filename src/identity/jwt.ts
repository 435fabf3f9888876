import {
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyOptions,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from "jose";
import { TtlCache } from "../platform/cache";
import type { Config } from "../platform/config";
import { AppError } from "../platform/errors";
import { createLogger } from "../platform/logger";
import { type Claims, ClaimsSchema, type Principal, ROLES, type Role } from "./principal";
import { currentKeys, type KeyGeneration, newerKeys, stillCurrent } from "./provider-keys";

const encoder = new TextEncoder();
const HMAC_HASH = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" } as const;
type HmacAlgorithm = keyof typeof HMAC_HASH;
/** What an identity provider may sign with, verified against JWT_JWKS_URL. */
export const PROVIDER_ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;
const keys = new Map<string, Promise<CryptoKey>>();

/** Each HMAC key is imported once per isolate, not once per request. */
function hmacKey(alg: HmacAlgorithm, secret: string): Promise<CryptoKey> {
  const id = `${alg}:${secret}`;
  let key = keys.get(id);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: HMAC_HASH[alg] }, false, [
      "sign",
      "verify",
    ]);
    keys.set(id, key);
  }
  return key;
}

/**
 * Tokens already verified by this isolate, until their `exp`: kiosks and controllers send the
 * same token thousands of times, and the signature check is the largest fixed cost of a check.
 * Keyed by the whole compact token (signature included) and by every setting that judged it,
 * so a hit means exactly this token passed exactly these checks. A provider's token also names
 * the key set that verified it, and is re-verified once that set is replaced. Bounded; oldest
 * dropped first.
 */
const verified = new TtlCache<string, { principal: Principal; keys?: KeyGeneration }>({
  maxEntries: 10_000,
  maxAgeMs: Number.POSITIVE_INFINITY,
});
const settingsKeys = new WeakMap<Config, string>();

function settingsKey(config: Config): string {
  let key = settingsKeys.get(config);
  if (key === undefined) {
    key = JSON.stringify([
      config.JWT_ALGORITHM,
      config.JWT_SECRET_KEY,
      config.JWT_SECRET_KEY_PREVIOUS ?? null,
      config.JWT_ISSUER ?? null,
      config.JWT_AUDIENCE ?? null,
      config.JWT_JWKS_URL ?? null,
      config.JWT_ROLE_CLAIM,
      config.JWT_MAKERSPACE_CLAIM,
    ]);
    settingsKeys.set(config, key);
  }
  return key;
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

function isProviderAlgorithm(alg: unknown): boolean {
  return (PROVIDER_ALGORITHMS as readonly unknown[]).includes(alg);
}

/**
 * Verifies the signature, `exp` (required), `nbf`, and `iss`/`aud` when configured, then the
 * claim shapes. Two kinds of token are accepted: HMAC-signed with `JWT_ALGORITHM` under
 * `JWT_SECRET_KEY` (or `JWT_SECRET_KEY_PREVIOUS` while a rotation is under way), and — when
 * `JWT_JWKS_URL` is set — RS256/ES256/EdDSA tokens of an identity provider whose `kid` is in its
 * JWKS. `alg: none` and every other algorithm are refused. A key that cannot be found (unknown
 * `kid`, provider down and never reached) is a 401, never a 500.
 * A valid token with an unknown role is a 403, not a 401: the caller is known, the call is not allowed.
 */
export async function verifyToken(token: string, config: Config): Promise<Principal> {
  const cacheKey = `${settingsKey(config)}|${token}`;
  const hit = verified.get(cacheKey);
  if (hit) {
    const trusted = !hit.keys || (config.JWT_JWKS_URL !== undefined && stillCurrent(config.JWT_JWKS_URL, hit.keys));
    if (trusted) return { ...hit.principal };
    verified.delete(cacheKey);
  }
  const ticket = verified.ticket();
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthorized();
  }
  const options: JWTVerifyOptions = {
    requiredClaims: ["exp", "sub"],
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
  };
  let claims: unknown;
  let keys: KeyGeneration | undefined;
  try {
    if (config.JWT_JWKS_URL && isProviderAlgorithm(alg)) {
      const result = await verifyWithProvider(token, config.JWT_JWKS_URL, options);
      keys = result.keys;
      claims = providerClaims(result.payload, config);
    } else {
      claims = await verifyWithSecrets(token, config, options);
    }
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw unauthorized("Token has expired");
    throw unauthorized();
  }
  const parsed = ClaimsSchema.safeParse(claims);
  if (!parsed.success) throw unauthorized("Token is missing required claims");
  const principal = toPrincipal(parsed.data);
  // Served until the second before `exp`; after it jose refuses the token ("Token has expired").
  verified.fill(cacheKey, { principal, ...(keys ? { keys } : {}) }, ticket, parsed.data.exp * 1000 - 1);
  return { ...principal };
}

/** The current secret first; the previous one only for a signature the current one refuses. */
async function verifyWithSecrets(token: string, config: Config, options: JWTVerifyOptions): Promise<JWTPayload> {
  const withAlg = { ...options, algorithms: [config.JWT_ALGORITHM] };
  try {
    return (await jwtVerify(token, await hmacKey(config.JWT_ALGORITHM, config.JWT_SECRET_KEY), withAlg)).payload;
  } catch (err) {
    if (!config.JWT_SECRET_KEY_PREVIOUS || !(err instanceof joseErrors.JWSSignatureVerificationFailed)) throw err;
  }
  const previous = await hmacKey(config.JWT_ALGORITHM, config.JWT_SECRET_KEY_PREVIOUS);
  const { payload } = await jwtVerify(token, previous, withAlg);
  // Once per token and isolate (later requests hit the cache): who still holds an old token.
  createLogger().info("token signed with JWT_SECRET_KEY_PREVIOUS", { sub: payload.sub, role: payload.role });
  return payload;
}

/** Verified against the provider's keys; an unknown `kid` refetches them at most once a minute. */
async function verifyWithProvider(
  token: string,
  url: string,
  options: JWTVerifyOptions,
): Promise<{ payload: JWTPayload; keys: KeyGeneration }> {
  const withAlgs = { ...options, algorithms: [...PROVIDER_ALGORITHMS] };
  const keys = await currentKeys(url);
  if (!keys) throw new joseErrors.JWKSNoMatchingKey();
  try {
    return { payload: (await jwtVerify(token, keys.resolve, withAlgs)).payload, keys };
  } catch (err) {
    if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
    const newer = await newerKeys(url, keys);
    if (!newer) throw err;
    return { payload: (await jwtVerify(token, newer.resolve, withAlgs)).payload, keys: newer };
  }
}

/** A provider names role and makerspace as configured; the other claims keep their names. */
function providerClaims(payload: JWTPayload, config: Config): Record<string, unknown> {
  const { sub, exp, iat, jti, device_kind } = payload;
  return {
    sub,
    exp,
    iat,
    jti,
    device_kind,
    role: payload[config.JWT_ROLE_CLAIM],
    makerspace_id: payload[config.JWT_MAKERSPACE_CLAIM],
  };
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

/** Signs a token under the current secret, the way this service verifies it (device tokens). */
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
  return jwt.sign(await hmacKey(config.JWT_ALGORITHM, config.JWT_SECRET_KEY));
}
