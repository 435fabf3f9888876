import { CompactSign, calculateJwkThumbprint, compactVerify, importJWK } from "jose";
import type { Config } from "../platform/config";
import { AppError } from "../platform/errors";
import { createLogger } from "../platform/logger";

export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

interface SigningKey {
  key: CryptoKey | Uint8Array;
  publicJwk: PublicJwk;
}

type KeyVariable = "ALLOWLIST_SIGNING_KEY" | "ALLOWLIST_SIGNING_KEY_PREVIOUS";

const encoder = new TextEncoder();
/** Keyed by the secret's text: imported (and self-checked) once per isolate. */
const loaded = new Map<string, Promise<SigningKey>>();
const loadedPublic = new Map<string, Promise<PublicJwk>>();

function configError(variable: KeyVariable, problem: string): AppError {
  createLogger().error("invalid configuration", { variables: [`${variable}: ${problem}`] });
  return new AppError("config_error", "Service configuration is invalid");
}

function parseJwk(variable: KeyVariable, raw: string): Record<string, unknown> {
  try {
    const jwk = JSON.parse(raw) as unknown;
    if (jwk && typeof jwk === "object" && !Array.isArray(jwk)) return jwk as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw configError(variable, "is not a JSON object");
}

/** The public half as published, `kid` included (the JWK's own, or its thumbprint); null if not Ed25519. */
async function publicHalf(jwk: Record<string, unknown>): Promise<PublicJwk | null> {
  const { kty, crv, x } = jwk;
  if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string") return null;
  const kid = typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : await calculateJwkThumbprint({ kty, crv, x });
  return { kty, crv, x, kid, alg: "EdDSA", use: "sig" };
}

async function load(raw: string): Promise<SigningKey> {
  const jwk = parseJwk("ALLOWLIST_SIGNING_KEY", raw);
  const publicJwk = await publicHalf(jwk);
  if (!publicJwk || typeof jwk.d !== "string") {
    throw configError("ALLOWLIST_SIGNING_KEY", "must be a private Ed25519 JWK (kty OKP, crv Ed25519, d, x)");
  }
  const { kty, crv, x } = publicJwk;
  try {
    const key = await importJWK({ kty, crv, d: jwk.d, x }, "EdDSA");
    // A `d` that does not match `x` would publish a key no list verifies against: refuse it here.
    const probe = await new CompactSign(encoder.encode("probe")).setProtectedHeader({ alg: "EdDSA" }).sign(key);
    await compactVerify(probe, await importJWK({ kty, crv, x }, "EdDSA"));
    return { key, publicJwk };
  } catch {
    throw configError("ALLOWLIST_SIGNING_KEY", "is not a usable Ed25519 key pair");
  }
}

/**
 * The retired key only verifies, so its public JWK is enough (copy it from
 * `/.well-known/jwks.json` before rotating); a private JWK is accepted too and only its public
 * half is used.
 */
async function loadPrevious(raw: string): Promise<PublicJwk> {
  const publicJwk = await publicHalf(parseJwk("ALLOWLIST_SIGNING_KEY_PREVIOUS", raw));
  const usable =
    publicJwk && (await importJWK({ kty: "OKP", crv: "Ed25519", x: publicJwk.x }, "EdDSA").catch(() => null));
  if (!publicJwk || !usable) {
    throw configError("ALLOWLIST_SIGNING_KEY_PREVIOUS", "must be an Ed25519 JWK (kty OKP, crv Ed25519, x)");
  }
  return publicJwk;
}

function signingKey(config: Config): Promise<SigningKey> {
  const raw = config.ALLOWLIST_SIGNING_KEY;
  if (!raw) return Promise.reject(configError("ALLOWLIST_SIGNING_KEY", "is not set"));
  let key = loaded.get(raw);
  if (!key) {
    key = load(raw);
    loaded.set(raw, key);
  }
  return key;
}

function previousKey(raw: string): Promise<PublicJwk> {
  let key = loadedPublic.get(raw);
  if (!key) {
    key = loadPrevious(raw);
    loadedPublic.set(raw, key);
  }
  return key;
}

/** The public half of ALLOWLIST_SIGNING_KEY (the key lists are signed with). */
export async function publicSigningJwk(config: Config): Promise<PublicJwk> {
  return (await signingKey(config)).publicJwk;
}

/**
 * What `/.well-known/jwks.json` publishes: the current key, then ALLOWLIST_SIGNING_KEY_PREVIOUS
 * while a rotation is under way, so controllers still verify the lists they hold that the
 * retired key signed. Two different keys under one `kid` are a configuration error (a controller
 * could not tell them apart); the same key twice is published once.
 */
export async function publishedSigningJwks(config: Config): Promise<PublicJwk[]> {
  const current = await publicSigningJwk(config);
  if (!config.ALLOWLIST_SIGNING_KEY_PREVIOUS) return [current];
  const previous = await previousKey(config.ALLOWLIST_SIGNING_KEY_PREVIOUS);
  if (previous.x === current.x) return [current];
  if (previous.kid === current.kid) {
    throw configError("ALLOWLIST_SIGNING_KEY_PREVIOUS", "has the same kid as ALLOWLIST_SIGNING_KEY");
  }
  return [current, previous];
}

/** A compact JWS (EdDSA, header `kid`) whose payload is `payload` as JSON, by the current key only. */
export async function signAllowlistPayload(config: Config, payload: unknown): Promise<string> {
  const { key, publicJwk } = await signingKey(config);
  return new CompactSign(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "EdDSA", kid: publicJwk.kid })
    .sign(key);
}
