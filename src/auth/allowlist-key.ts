import { CompactSign, calculateJwkThumbprint, compactVerify, importJWK } from "jose";
import type { Config } from "../config";
import { AppError } from "../lib/errors";
import { createLogger } from "../lib/logger";

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

const encoder = new TextEncoder();
/** Keyed by the secret's text: imported (and self-checked) once per isolate. */
const loaded = new Map<string, Promise<SigningKey>>();

function configError(problem: string): AppError {
  createLogger().error("invalid configuration", { variables: [`ALLOWLIST_SIGNING_KEY: ${problem}`] });
  return new AppError("config_error", "Service configuration is invalid");
}

async function load(raw: string): Promise<SigningKey> {
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw configError("is not JSON");
  }
  const { kty, crv, d, x } = jwk;
  if (kty !== "OKP" || crv !== "Ed25519" || typeof d !== "string" || typeof x !== "string") {
    throw configError("must be a private Ed25519 JWK (kty OKP, crv Ed25519, d, x)");
  }
  const kid = typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : await calculateJwkThumbprint({ kty, crv, x });
  const publicJwk: PublicJwk = { kty, crv, x, kid, alg: "EdDSA", use: "sig" };
  try {
    const key = await importJWK({ kty, crv, d, x }, "EdDSA");
    // A `d` that does not match `x` would publish a key no list verifies against: refuse it here.
    const probe = await new CompactSign(encoder.encode("probe")).setProtectedHeader({ alg: "EdDSA" }).sign(key);
    await compactVerify(probe, await importJWK({ kty, crv, x }, "EdDSA"));
    return { key, publicJwk };
  } catch {
    throw configError("is not a usable Ed25519 key pair");
  }
}

function signingKey(config: Config): Promise<SigningKey> {
  const raw = config.ALLOWLIST_SIGNING_KEY;
  if (!raw) return Promise.reject(configError("is not set"));
  let key = loaded.get(raw);
  if (!key) {
    key = load(raw);
    loaded.set(raw, key);
  }
  return key;
}

/** The public half of ALLOWLIST_SIGNING_KEY, for `/.well-known/jwks.json`. */
export async function publicSigningJwk(config: Config): Promise<PublicJwk> {
  return (await signingKey(config)).publicJwk;
}

/** A compact JWS (EdDSA, header `kid`) whose payload is `payload` as JSON. */
export async function signAllowlistPayload(config: Config, payload: unknown): Promise<string> {
  const { key, publicJwk } = await signingKey(config);
  return new CompactSign(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "EdDSA", kid: publicJwk.kid })
    .sign(key);
}
