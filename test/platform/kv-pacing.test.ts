import { beforeEach, describe, expect, it } from "vitest";
import { clearKvPacing, isKvRateLimited, pacedWrite, writeNowUnlessRecent } from "../../src/platform/kv-pacing";

/** A stand-in for one KV key that keeps production's rule: a write within 1 s of the last is 429. */
function limitedKey() {
  const writes: number[] = [];
  let value = 0;
  let source = 0;
  return {
    writes,
    get value() {
      return value;
    },
    /** The data the writes copy (what D1 holds). */
    change() {
      source += 1;
    },
    async write() {
      const now = Date.now();
      const last = writes[writes.length - 1];
      if (last !== undefined && now - last < 1000) throw new Error("KV PUT failed: 429 Too Many Requests");
      writes.push(now);
      value = source;
    },
  };
}

beforeEach(clearKvPacing);

describe("pacedWrite", () => {
  it("two changes in a row: the second waits for the key's second instead of being refused", async () => {
    const key = limitedKey();
    key.change();
    await pacedWrite("k1", () => key.write());
    key.change();
    await pacedWrite("k1", () => key.write());
    expect(key.writes).toHaveLength(2);
    expect((key.writes[1] as number) - (key.writes[0] as number)).toBeGreaterThanOrEqual(1000);
    expect(key.value).toBe(2);
  });

  it("five concurrent changes cost two writes, and the last value holds all of them", async () => {
    const key = limitedKey();
    await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 20));
        key.change();
        await pacedWrite("k2", () => key.write());
      }),
    );
    expect(key.writes).toHaveLength(2);
    expect(key.value).toBe(5);
  });

  it("a refusal caused by a write elsewhere is tried again a second later", async () => {
    const key = limitedKey();
    await key.write(); // another isolate's write
    key.change();
    await pacedWrite("k3", () => key.write());
    expect(key.writes).toHaveLength(2);
    expect(key.value).toBe(1);
  });

  it("throws KV's refusal when every try is refused", async () => {
    let tries = 0;
    const refuse = async () => {
      tries += 1;
      throw new Error("KV PUT failed: 429 Too Many Requests");
    };
    const err = await pacedWrite("k4", refuse, 2).catch((e: unknown) => e);
    expect(isKvRateLimited(err)).toBe(true);
    expect(tries).toBe(2);
  });

  it("other errors are thrown at once", async () => {
    await expect(pacedWrite("k5", () => Promise.reject(new Error("KV is down")))).rejects.toThrow("KV is down");
  });
});

describe("writeNowUnlessRecent", () => {
  it("writes once, then nothing within the key's second", async () => {
    const key = limitedKey();
    await writeNowUnlessRecent("k6", () => key.write());
    expect(writeNowUnlessRecent("k6", () => key.write())).toBeNull();
    const other = limitedKey();
    await writeNowUnlessRecent("k7", () => other.write());
    expect(other.writes).toHaveLength(1);
  });

  it("a paced write right after it waits its turn", async () => {
    const key = limitedKey();
    await writeNowUnlessRecent("k8", () => key.write());
    key.change();
    await pacedWrite("k8", () => key.write());
    expect(key.writes).toHaveLength(2);
    expect(key.value).toBe(1);
  });
});
