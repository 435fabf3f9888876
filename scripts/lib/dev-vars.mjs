// Reading and creating .dev.vars (the local secrets file wrangler reads) for the npm scripts.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { generateSigningKey } from "../keygen.mjs";

export const DEV_VARS = ".dev.vars";

export function readDevVars(path = DEV_VARS) {
  if (!existsSync(path)) return {};
  const out = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1);
    }
    out[m[1]] = value;
  }
  return out;
}

/**
 * [vars] of wrangler.toml, or [env.NAME.vars] of a deployed environment (flat string values only,
 * which is all this project uses).
 */
export function readWranglerVars(path = "wrangler.toml", env = "") {
  const text = readFileSync(path, "utf8");
  const header = env ? `[env.${env}.vars]` : "[vars]";
  const at = text.split("\n").findIndex((line) => line.trim() === header);
  if (at === -1) throw new Error(`${path} has no ${header}`);
  const section =
    text
      .split("\n")
      .slice(at + 1)
      .join("\n")
      .split(/^\[/m)[0] ?? "";
  const out = {};
  for (const m of section.matchAll(/^\s*([A-Z0-9_]+)\s*=\s*"(.*)"\s*$/gm)) out[m[1]] = m[2];
  return out;
}

/**
 * Creates .dev.vars on first run: a random JWT secret, a fresh allow-list signing key, a webhook
 * encryption key, and
 * ALLOW_UNREGISTERED_DEVICES="true" so `npm run token -- --role device` tokens work locally
 * (wrangler.toml keeps it "false", and `wrangler deploy` never reads .dev.vars). An existing file
 * is completed (a missing variable is added), never overwritten: a "false" there stays.
 */
export async function ensureDevVars(path = DEV_VARS) {
  const current = readDevVars(path);
  const lines = existsSync(path) ? readFileSync(path, "utf8").replace(/\n*$/, "\n") : "";
  let add = "";
  if (!current.JWT_SECRET_KEY) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    add += `JWT_SECRET_KEY="${Buffer.from(bytes).toString("base64url")}"\n`;
  }
  if (!current.ALLOWLIST_SIGNING_KEY) {
    const { privateJwk } = await generateSigningKey();
    add += `ALLOWLIST_SIGNING_KEY='${JSON.stringify(privateJwk)}'\n`;
  }
  if (!current.WEBHOOK_ENCRYPTION_KEY) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    add += `WEBHOOK_ENCRYPTION_KEY="${Buffer.from(bytes).toString("base64")}"\n`;
  }
  if (current.ALLOW_UNREGISTERED_DEVICES === undefined) add += `ALLOW_UNREGISTERED_DEVICES="true"\n`;
  if (add) {
    writeFileSync(path, (lines === "\n" ? "" : lines) + add, { mode: 0o600 });
    console.log(`${existsSync(path) && lines ? "completed" : "created"} ${path} with local secrets`);
  }
}
