import type { DeviceKind } from "../auth/principal";

/** What the token check needs of a `devices` row. */
export interface DeviceAuthRecord {
  id: string;
  makerspaceId: string;
  kind: DeviceKind;
  status: "active" | "revoked";
  tokenJti: string;
  equipmentIds: string[];
}

/**
 * Per-isolate cache of device rows for the token check, so a controller's hot path pays no D1
 * query per request. `null` remembers "no such device" (ad-hoc tokens). Bounded in size and age:
 * a revocation or rotation made through another isolate is seen here at most MAX_AGE_MS later
 * (hence "rejected within 60 s everywhere"); through this isolate the entry is dropped at once.
 */
export const DEVICE_CACHE_MAX_AGE_MS = 30_000;
const MAX_ENTRIES = 1_000;
const entries = new Map<string, { value: DeviceAuthRecord | null; storedAt: number }>();

/**
 * Entries are per makerspace and device id: the row is read on the makerspace's shard, and two
 * makerspaces on different shards could each hold a row with one id.
 */
export const deviceCacheKey = (makerspaceId: string | null, id: string) => `${makerspaceId ?? ""}\u0000${id}`;

/** `undefined` on a miss; `{ value: null }` when the device is known not to exist. */
export function cachedDevice(
  id: string,
  nowMs: number,
): { value: DeviceAuthRecord | null; storedAt: number } | undefined {
  const hit = entries.get(id);
  if (!hit) return undefined;
  if (nowMs - hit.storedAt > DEVICE_CACHE_MAX_AGE_MS || nowMs < hit.storedAt) {
    entries.delete(id);
    return undefined;
  }
  return { value: hit.value, storedAt: hit.storedAt };
}

export function rememberDevice(id: string, value: DeviceAuthRecord | null, nowMs: number): void {
  entries.delete(id);
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  entries.set(id, { value, storedAt: nowMs });
}

export function forgetDevice(id: string): void {
  entries.delete(id);
}

/** Test hook: start from an empty cache. */
export function clearDeviceCache(): void {
  entries.clear();
}
