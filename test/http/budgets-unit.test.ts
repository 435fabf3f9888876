import { describe, expect, it } from "vitest";
import { retryAfterSeconds } from "../../src/http/budgets-policy";

describe("retryAfterSeconds", () => {
  it.each([
    ["2026-11-24T10:30:00.000Z", 60],
    ["2026-11-24T10:30:00.999Z", 60],
    ["2026-11-24T10:30:30.000Z", 30],
    ["2026-11-24T10:30:59.000Z", 1],
    ["2026-11-24T10:30:59.999Z", 1],
  ])("at %s the minute's window ends in %i s", (at, seconds) => {
    expect(retryAfterSeconds(new Date(at))).toBe(seconds);
  });
});
