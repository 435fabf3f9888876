import { beforeEach, describe, expect, it } from "vitest";
import {
  clearDeviceCache,
  DEVICE_CACHE_MAX_AGE_MS,
  type DeviceAuthRecord,
  deviceCache,
  forgetDevice,
} from "../../src/devices/cache";

const record: DeviceAuthRecord = {
  id: "dev_1",
  makerspaceId: "ms-1",
  kind: "door",
  status: "active",
  tokenJti: "jti-1",
  equipmentIds: [],
};

const remember = (id: string, value: DeviceAuthRecord | null, at: number) =>
  deviceCache.fill(id, value, deviceCache.ticket(at));

describe("device token cache", () => {
  beforeEach(() => clearDeviceCache());

  it("keeps an entry for at most 30 s, so a change elsewhere is seen within 60 s", () => {
    expect(DEVICE_CACHE_MAX_AGE_MS).toBeLessThanOrEqual(30_000);
    remember("dev_1", record, 1_000);
    expect(deviceCache.entry("dev_1", 1_000 + DEVICE_CACHE_MAX_AGE_MS)).toMatchObject({ value: record });
    expect(deviceCache.entry("dev_1", 1_001 + DEVICE_CACHE_MAX_AGE_MS)).toBeUndefined();
    // Gone for good once expired.
    expect(deviceCache.entry("dev_1", 1_000)).toBeUndefined();
  });

  it("remembers that a device does not exist, distinct from a miss", () => {
    remember("adhoc", null, 0);
    expect(deviceCache.entry("adhoc", 10)).toMatchObject({ value: null });
    expect(deviceCache.entry("other", 10)).toBeUndefined();
  });

  it("forgets at once on revoke/rotate, and a read that raced the revocation cannot put the row back", () => {
    remember("dev_1", record, 5_000);
    const racing = deviceCache.ticket(5_000);
    forgetDevice("dev_1");
    expect(deviceCache.entry("dev_1", 5_000)).toBeUndefined();
    expect(deviceCache.fill("dev_1", record, racing)).toBe(false);
    expect(deviceCache.entry("dev_1", 5_001)).toBeUndefined();
  });

  it("serves a row stored by a request that began later; drops one dated past the max age (clock moved back)", () => {
    remember("dev_1", record, 5_000);
    expect(deviceCache.entry("dev_1", 4_000)).toMatchObject({ value: record });
    remember("dev_2", record, 50_000);
    expect(deviceCache.entry("dev_2", 50_000 - DEVICE_CACHE_MAX_AGE_MS - 1)).toBeUndefined();
  });

  it("is bounded: the oldest entry is evicted first", () => {
    for (let i = 0; i < 1_001; i++) remember(`dev_${i}`, null, 0);
    expect(deviceCache.entry("dev_0", 0)).toBeUndefined();
    expect(deviceCache.entry("dev_1000", 0)).toMatchObject({ value: null });
  });
});
