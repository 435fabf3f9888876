// Prints a new Ed25519 key pair for signing offline allow-lists.
// The private JWK goes into the ALLOWLIST_SIGNING_KEY secret; the public half is
// derived from it at runtime and published at /.well-known/jwks.json. When it replaces a key
// in use, the old one goes into ALLOWLIST_SIGNING_KEY_PREVIOUS (README, "Rotating secrets").
import { exportJWK, generateKeyPair } from "jose";

export async function generateSigningKey() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const kid = `allowlist-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  const priv = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA", use: "sig" };
  const pub = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  return { privateJwk: priv, publicJwk: pub };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { privateJwk, publicJwk } = await generateSigningKey();
  const line = JSON.stringify(privateJwk);
  console.log(
    "# Private key (secret): put it in .dev.vars, or `wrangler secret put ALLOWLIST_SIGNING_KEY --env production`",
  );
  console.log(`ALLOWLIST_SIGNING_KEY='${line}'`);
  console.log("# Public key (published at /.well-known/jwks.json):");
  console.log(JSON.stringify(publicJwk));
}
