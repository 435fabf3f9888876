import type { DeviceKind } from "../identity/principal";
import { TtlCache } from "../platform/cache";

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
 * (hence "rejected within 60 s everywhere"); through this isolate the entry is dropped at once,
 * and a read that raced the change cannot put it back.
 */
export const DEVICE_CACHE_MAX_AGE_MS = 30_000;
export const deviceCache = new TtlCache<string, DeviceAuthRecord | null>({
  maxEntries: 1_000,
  maxAgeMs: DEVICE_CACHE_MAX_AGE_MS,
});

/**
 * Entries are per makerspace and device id: the row is read on the makerspace's shard, and two
 * makerspaces on different shards could each hold a row with one id.
 */
export const deviceCacheKey = (makerspaceId: string | null, id: string) => `${makerspaceId ?? ""}\u0000${id}`;

export function forgetDevice(id: string): void {
  deviceCache.delete(id);
}

/** Test hook: start from an empty cache. */
export function clearDeviceCache(): void {
  deviceCache.clear();
}
