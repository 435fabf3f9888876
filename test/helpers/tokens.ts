import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import type { DeviceKind } from "../../src/identity/principal";
import { shardDb } from "./shards";

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

/**
 * The token of a registered device `sub` (a door unless `kind` says otherwise), as
 * `POST /devices` issues it. The row is written straight into its makerspace's shard — stable ids for assertions,
 * no audit event — and reused by later calls with the same id; a call that would register the
 * same id differently throws, so tests cannot silently share a device.
 */
export async function device(sub = "device-1", makerspace = "ms-1", kind: DeviceKind = "door"): Promise<string> {
  const jti = `test-jti-${sub}`;
  const at = new Date().toISOString();
  const db = await shardDb(makerspace);
  await db
    .prepare(
      `insert into devices (id, name, kind, makerspace_id, equipment_ids, status, token_jti, created_at, updated_at)
     values (?1, ?1, ?2, ?3, '[]', 'active', ?4, ?5, ?5) on conflict (id) do nothing`,
    )
    .bind(sub, kind, makerspace, jti, at)
    .run();
  const row = await db
    .prepare("select kind, makerspace_id, status, token_jti from devices where id = ?")
    .bind(sub)
    .first<{ kind: string; makerspace_id: string; status: string; token_jti: string }>();
  if (row?.kind !== kind || row.makerspace_id !== makerspace || row.status !== "active" || row.token_jti !== jti) {
    throw new Error(`test device ${sub} is already registered as ${JSON.stringify(row)}`);
  }
  return token({ role: "device", sub, makerspace, claims: { jti, device_kind: kind } });
}

/** A device token naming no registered device (`npm run token -- --role device`). */
export const adhocDevice = (sub = "adhoc-device-1", makerspace = "ms-1", claims: Record<string, unknown> = {}) =>
  token({ role: "device", sub, makerspace, claims });
