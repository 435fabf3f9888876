import { eq } from "drizzle-orm";
import { cachedDevice, type DeviceAuthRecord, rememberDevice } from "../cache/devices";
import type { Deps } from "../context";
import { devices } from "../db/schema";
import { AppError } from "../lib/errors";
import type { Principal } from "./principal";

async function loadDevice(deps: Deps, id: string): Promise<DeviceAuthRecord | null> {
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
  rememberDevice(id, record, deps.now.getTime());
  return record;
}

function accepts(record: DeviceAuthRecord, p: Principal): boolean {
  return record.status === "active" && record.tokenJti === p.jti && record.makerspaceId === p.makerspaceId;
}

/**
 * The registered-device half of authentication (API.md section 8). A `device` token with a `jti`
 * whose `sub` names a registered device is accepted only while that device is active and the
 * `jti` is its current one; the principal then carries the device's kind and equipment limit from
 * the row, not from the token. Tokens naming no registered device (`npm run token --role device`)
 * pass unchanged, for local use.
 *
 * The row comes from a per-isolate cache (≤ 30 s old). A cached row that does not accept the
 * token is re-read before rejecting, at most once a second, so a token rotated in another isolate
 * works within a second while a controller still sending its old token costs no D1 query per
 * request; a revoked device is rejected from the cache (revocation is final).
 */
const REREAD_AFTER_MS = 1_000;

export async function checkDeviceToken(deps: Deps, p: Principal): Promise<Principal> {
  if (p.role !== "device" || !p.jti) return p;
  const hit = cachedDevice(p.sub, deps.now.getTime());
  let record = hit ? hit.value : await loadDevice(deps, p.sub);
  const stale = hit !== undefined && deps.now.getTime() - hit.storedAt > REREAD_AFTER_MS;
  if (stale && record && !accepts(record, p) && record.status === "active") record = await loadDevice(deps, p.sub);
  if (!record) return p;
  if (!accepts(record, p)) throw new AppError("unauthorized", "Device token has been revoked or replaced");
  return { ...p, deviceKind: record.kind, deviceEquipmentIds: record.equipmentIds };
}
