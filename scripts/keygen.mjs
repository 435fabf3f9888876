// Prints a new Ed25519 key pair for signing offline allow-lists.
// The private JWK goes into the ALLOWLIST_SIGNING_KEY secret; the public half is
// derived from it at runtime and published at /.well-known/jwks.json. When it replaces a key
// in use, the old one goes into ALLOWLIST_SIGNING_KEY_PREVIOUS (docs/OPERATIONS.md, "Rotating secrets").
import { parseArgs } from "node:util";
import { exportJWK, generateKeyPair } from "jose";

const USAGE = `usage: npm run keygen [-- --help]

Prints a new Ed25519 key pair for signing offline allow-lists, and nothing else:
  ALLOWLIST_SIGNING_KEY='<private JWK>'   the secret (.dev.vars, or wrangler secret put)
  <public JWK>                             what /.well-known/jwks.json will publish

Options:
  -h, --help   this text

It takes no arguments: anything else is an error and prints no key.`;

export async function generateSigningKey() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const kid = `allowlist-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  const priv = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA", use: "sig" };
  const pub = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  return { privateJwk: priv, publicJwk: pub };
}

/**
 * What the command line asks for: `help`, or a key (no arguments at all). Anything else is an
 * error, so a mistyped option never prints a private key to a terminal or a log by surprise.
 */
export function keygenCommand(args) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  return values.help ? { help: true } : { key: true };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const command = keygenCommand(process.argv.slice(2));
  if (command.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (command.error) {
    console.error(`keygen: ${command.error}\n\n${USAGE}`);
    process.exit(2);
  }
  const { privateJwk, publicJwk } = await generateSigningKey();
  const line = JSON.stringify(privateJwk);
  console.log(
    "# Private key (secret): put it in .dev.vars, or `wrangler secret put ALLOWLIST_SIGNING_KEY --env production`",
  );
  console.log(`ALLOWLIST_SIGNING_KEY='${line}'`);
  console.log("# Public key (published at /.well-known/jwks.json):");
  console.log(JSON.stringify(publicJwk));
}
