import { AppError } from "../platform/errors";
import { createLogger } from "../platform/logger";
import { fromBase64, toBase64 } from "./signature";

/**
 * Webhook signing secrets are kept in D1 encrypted (AES-256-GCM) under the Worker secret
 * `WEBHOOK_ENCRYPTION_KEY` (base64 of 32 bytes), so a copy of the database alone cannot sign for
 * a makerspace's receivers. The webhook's id is the additional data: a ciphertext moved to
 * another row does not open. Stored as `v1.<iv>.<ciphertext>` (base64).
 *
 * A missing or invalid key is a `config_error` of the webhook routes and deliveries only (named
 * in the log), as the allow-list key is for allow-lists.
 */
const VERSION = "v1";
const utf8 = new TextEncoder();

const keys = new Map<string, Promise<CryptoKey>>();

function keyFrom(encoded: string | undefined): Promise<CryptoKey> {
  let raw: Uint8Array<ArrayBuffer> | undefined;
  try {
    raw = encoded ? fromBase64(encoded) : undefined;
  } catch {
    raw = undefined;
  }
  if (raw?.byteLength !== 32) {
    createLogger().error("invalid configuration", {
      variables: [`WEBHOOK_ENCRYPTION_KEY: ${encoded ? "must be base64 of 32 bytes" : "is not set"}`],
    });
    throw new AppError("config_error", "Service configuration is invalid");
  }
  const key = raw;
  let imported = keys.get(encoded as string);
  if (!imported) {
    imported = crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
    keys.set(encoded as string, imported);
  }
  return imported;
}

export async function sealSecret(keyText: string | undefined, webhookId: string, secret: string): Promise<string> {
  const key = await keyFrom(keyText);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8.encode(webhookId) },
    key,
    utf8.encode(secret),
  );
  return `${VERSION}.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

/** Throws when the key is wrong or the row's ciphertext was tampered with or moved. */
export async function openSecret(keyText: string | undefined, webhookId: string, stored: string): Promise<string> {
  const key = await keyFrom(keyText);
  const [version, iv, data] = stored.split(".");
  if (version !== VERSION || !iv || !data) throw new Error("unreadable webhook secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv), additionalData: utf8.encode(webhookId) },
    key,
    fromBase64(data),
  );
  return new TextDecoder().decode(plain);
}
