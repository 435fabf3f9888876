// A Standard Webhooks verifier (https://www.standardwebhooks.com/), written apart from the
// service's signer (src/webhooks/signature.ts) so the e2e receiver checks deliveries the way a
// third-party library would. WebCrypto only: it runs under Node and workerd alike.

const SECRET_PREFIX = "whsec_";
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export class WebhookVerificationError extends Error {}

function base64ToBytes(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function bytesToBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Constant-time comparison of two strings of base64. */
function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The `v1,<base64>` signature of a message, as the specification computes it. */
export async function sign(secret, id, timestamp, body) {
  const raw = base64ToBytes(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

function header(headers, name) {
  if (typeof headers.get === "function") return headers.get(name) ?? undefined;
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Verifies one delivery and returns its parsed JSON body. `headers` is a Headers object or Node's
 * plain header object; `body` the raw text. Throws WebhookVerificationError when a header is
 * missing, the timestamp is outside the tolerance (default 5 minutes either way) or no `v1`
 * signature of the space-separated list matches.
 */
export async function verify(
  secret,
  headers,
  body,
  { now = Date.now(), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = {},
) {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("missing required headers");
  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(seconds))
    throw new WebhookVerificationError("invalid timestamp");
  const nowSeconds = Math.floor(now / 1000);
  if (nowSeconds - seconds > toleranceSeconds) throw new WebhookVerificationError("message timestamp too old");
  if (seconds - nowSeconds > toleranceSeconds) throw new WebhookVerificationError("message timestamp too new");
  const expected = (await sign(secret, id, timestamp, body)).slice(3);
  for (const candidate of signatures.split(" ")) {
    const [version, signature] = candidate.split(",", 2);
    if (version === "v1" && signature !== undefined && equal(signature, expected)) return JSON.parse(body);
  }
  throw new WebhookVerificationError("no matching signature found");
}
