import { describe, expect, it } from "vitest";
import { TtlCache } from "../../src/platform/cache";

const cache = (maxEntries = 3, maxAgeMs = 1_000) => new TtlCache<string, string>({ maxEntries, maxAgeMs });

describe("TtlCache", () => {
  it("serves an entry until it is maxAgeMs old, counted from when its read began", () => {
    const c = cache();
    const t = c.ticket(10_000);
    expect(c.fill("a", "A", t)).toBe(true);
    expect(c.get("a", 11_000)).toBe("A");
    expect(c.get("a", 11_001)).toBeUndefined();
    // Gone for good once expired.
    expect(c.get("a", 10_500)).toBeUndefined();
  });

  it("ages a slow read from its start, not from when it was stored", () => {
    const c = cache();
    const t = c.ticket(10_000);
    c.fill("a", "A", t); // stored at, say, 10 900: still expires at 11 000
    expect(c.entry("a", 10_900)).toMatchObject({ value: "A", storedAt: 10_000 });
    expect(c.get("a", 11_001)).toBeUndefined();
  });

  it("is bounded: the oldest stored entry goes first, and re-storing a key makes it the newest", () => {
    const c = cache(3);
    for (const k of ["a", "b", "c"]) c.fill(k, k.toUpperCase(), c.ticket(0));
    c.fill("a", "A2", c.ticket(1));
    c.fill("d", "D", c.ticket(2));
    expect(c.size).toBe(3);
    expect(c.get("b", 2)).toBeUndefined();
    expect(c.get("a", 2)).toBe("A2");
    expect(c.get("c", 2)).toBe("C");
    expect(c.get("d", 2)).toBe("D");
  });

  it("serves an entry stored by a request that began later (no eviction 'from the future')", () => {
    const c = cache();
    const early = 10_000;
    const late = c.ticket(10_050);
    c.fill("a", "A", late);
    // The earlier request reads after the later one stored: its clock is behind the entry's.
    expect(c.get("a", early)).toBe("A");
    expect(c.size).toBe(1);
  });

  it("drops an entry dated more than maxAgeMs ahead of the clock (the clock went back)", () => {
    const c = cache();
    c.fill("a", "A", c.ticket(10_000));
    expect(c.get("a", 8_999)).toBeUndefined();
  });

  it("a fill whose read began earlier never replaces an entry whose read began later", () => {
    const c = cache();
    const slow = c.ticket(10_000);
    const fast = c.ticket(10_020);
    expect(c.fill("a", "new", fast)).toBe(true);
    expect(c.fill("a", "old", slow)).toBe(false);
    expect(c.get("a", 10_030)).toBe("new");
  });

  it("concurrent fills of other keys evict nothing while the cache has room", () => {
    const c = cache(10);
    const tickets = ["a", "b", "c", "d"].map((k, i) => [k, c.ticket(10_000 + i)] as const);
    for (const [k, t] of tickets.reverse()) c.fill(k, k, t);
    for (const k of ["a", "b", "c", "d"]) expect(c.get(k, 10_000)).toBe(k);
  });

  it("a delete refuses fills whose read began before it (a read racing a change)", () => {
    const c = cache();
    const before = c.ticket(10_000);
    c.delete("a"); // the change, made through this isolate
    expect(c.fill("a", "stale", before)).toBe(false);
    expect(c.get("a", 10_001)).toBeUndefined();
    const after = c.ticket(10_002);
    expect(c.fill("a", "fresh", after)).toBe(true);
    expect(c.get("a", 10_003)).toBe("fresh");
  });

  it("deleteWhere drops the matching keys and refuses older fills; clear drops everything", () => {
    const c = cache(10);
    for (const k of ["eq:1", "ms:a", "ms:b"]) c.fill(k, k, c.ticket(0));
    const inFlight = c.ticket(1);
    c.deleteWhere((k) => k.startsWith("ms:"));
    expect(c.get("eq:1", 1)).toBe("eq:1");
    expect(c.get("ms:a", 1)).toBeUndefined();
    expect(c.fill("ms:a", "stale", inFlight)).toBe(false);
    c.clear();
    expect(c.size).toBe(0);
  });

  it("an explicit expiry shortens an entry's life (a token's exp), never lengthens it", () => {
    const c = cache(3, 60_000);
    c.fill("tok", "T", c.ticket(0), 500);
    expect(c.get("tok", 500)).toBe("T");
    expect(c.get("tok", 501)).toBeUndefined();
    c.fill("tok", "T", c.ticket(0), 10 ** 12);
    expect(c.get("tok", 60_001)).toBeUndefined();
  });
});
