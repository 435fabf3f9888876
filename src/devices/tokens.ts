import { eq } from "drizzle-orm";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { devices } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { type DeviceAuthRecord, deviceCache, deviceCacheKey } from "./cache";

async function loadDevice(deps: Deps, p: Principal): Promise<DeviceAuthRecord | null> {
  const id = p.sub;
  const ticket = deviceCache.ticket(deps.now.getTime());
  const row = await deps.db
    .select({
      id: devices.id,
      makerspaceId: devices.makerspaceId,
      kind: devices.kind,
      status: devices.status,
      tokenJti: devices.tokenJti,
      equipmentIds: devices.equipmentIds,
    })
    .from(devices)
    .where(eq(devices.id, id))
    .get();
  const record = row ? { ...row, equipmentIds: JSON.parse(row.equipmentIds) as string[] } : null;
  deviceCache.fill(deviceCacheKey(p.makerspaceId, id), record, ticket);
  return record;
}

function accepts(record: DeviceAuthRecord, p: Principal): boolean {
  return record.status === "active" && record.tokenJti === p.jti && record.makerspaceId === p.makerspaceId;
}

/**
 * The registered-device half of authentication. A `device` token whose `sub` names a device row
 * is accepted only while that device is active and the token's `jti` is its current one; the
 * principal then carries the device's kind and equipment limit from the row, not from the token.
 * A token naming no device row (ad-hoc, `npm run token -- --role device`) is refused unless
 * ALLOW_UNREGISTERED_DEVICES is on, which only local development sets: a device nobody
 * registered cannot be listed, rotated or revoked.
 *
 * The row comes from a per-isolate cache (≤ 30 s old). A cached answer that refuses the token
 * is re-read before rejecting, at most once a second, so a device registered or rotated in
 * another isolate works within a second while a controller still sending its old token costs no
 * D1 query per request; a revoked device is rejected from the cache (revocation is final).
 */
const REREAD_AFTER_MS = 1_000;

export async function checkDeviceToken(deps: Deps, p: Principal): Promise<Principal> {
  if (p.role !== "device") return p;
  const allowUnregistered = deps.config.ALLOW_UNREGISTERED_DEVICES;
  const refuses = (r: DeviceAuthRecord | null) => (r ? r.status === "active" && !accepts(r, p) : !allowUnregistered);
  const hit = deviceCache.entry(deviceCacheKey(p.makerspaceId, p.sub), deps.now.getTime());
  let record = hit ? hit.value : await loadDevice(deps, p);
  const stale = hit !== undefined && deps.now.getTime() - hit.storedAt > REREAD_AFTER_MS;
  if (stale && refuses(record)) record = await loadDevice(deps, p);
  if (!record) {
    if (allowUnregistered) return p;
    throw new AppError("unauthorized", "Device is not registered");
  }
  if (!accepts(record, p)) throw new AppError("unauthorized", "Device token has been revoked or replaced");
  return { ...p, registered: true, deviceKind: record.kind, deviceEquipmentIds: record.equipmentIds };
}
