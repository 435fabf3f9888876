import { beforeEach, describe, expect, it } from "vitest";
import {
  cachedDevice,
  clearDeviceCache,
  DEVICE_CACHE_MAX_AGE_MS,
  type DeviceAuthRecord,
  forgetDevice,
  rememberDevice,
} from "../../src/cache/devices";

const record: DeviceAuthRecord = {
  id: "dev_1",
  makerspaceId: "ms-1",
  kind: "door",
  status: "active",
  tokenJti: "jti-1",
  equipmentIds: [],
};

describe("device token cache", () => {
  beforeEach(() => clearDeviceCache());

  it("keeps an entry for at most 30 s, so a change elsewhere is seen within 60 s", () => {
    expect(DEVICE_CACHE_MAX_AGE_MS).toBeLessThanOrEqual(30_000);
    rememberDevice("dev_1", record, 1_000);
    expect(cachedDevice("dev_1", 1_000 + DEVICE_CACHE_MAX_AGE_MS)).toMatchObject({ value: record });
    expect(cachedDevice("dev_1", 1_001 + DEVICE_CACHE_MAX_AGE_MS)).toBeUndefined();
    // Gone for good once expired.
    expect(cachedDevice("dev_1", 1_000)).toBeUndefined();
  });

  it("remembers that a device does not exist, distinct from a miss", () => {
    rememberDevice("adhoc", null, 0);
    expect(cachedDevice("adhoc", 10)).toMatchObject({ value: null });
    expect(cachedDevice("other", 10)).toBeUndefined();
  });

  it("forgets at once on revoke/rotate, and ignores entries from the future (clock moved back)", () => {
    rememberDevice("dev_1", record, 5_000);
    forgetDevice("dev_1");
    expect(cachedDevice("dev_1", 5_000)).toBeUndefined();
    rememberDevice("dev_1", record, 5_000);
    expect(cachedDevice("dev_1", 4_000)).toBeUndefined();
  });

  it("is bounded: the oldest entry is evicted first", () => {
    for (let i = 0; i < 1_001; i++) rememberDevice(`dev_${i}`, null, 0);
    expect(cachedDevice("dev_0", 0)).toBeUndefined();
    expect(cachedDevice("dev_1000", 0)).toMatchObject({ value: null });
  });
});
