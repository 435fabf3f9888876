import { describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { endOfDay, expiryFor, fixedDatePassed, validityColumns, validityOf } from "../../src/services/validity";

const config = { SKILL_CERTIFICATION_EXPIRY_DAYS: 365 };
const now = new Date("2027-03-01T12:00:00.000Z");

describe("validityOf / validityColumns", () => {
  it("a skill without its own validity follows the configured days, and round-trips", () => {
    const none = validityColumns(undefined);
    expect(none).toEqual({ validityMode: "duration", validityDays: null, validityDate: null });
    expect(validityColumns(null)).toEqual(none);
    expect(validityOf(none, config)).toEqual({ mode: "duration", days: 365 });
    expect(validityOf(none, { SKILL_CERTIFICATION_EXPIRY_DAYS: 30 })).toEqual({ mode: "duration", days: 30 });
    for (const v of [
      { mode: "duration", days: 7 },
      { mode: "never" },
      { mode: "fixed_date", date: "2027-06-30" },
      { mode: "renew_on_use", days: 90 },
    ] as const) {
      expect(validityOf(validityColumns(v), config)).toEqual(v);
    }
  });
});

describe("expiryFor", () => {
  it("by mode", () => {
    expect(expiryFor({ mode: "duration", days: 30 }, now)).toBe("2027-03-31T12:00:00.000Z");
    expect(expiryFor({ mode: "renew_on_use", days: 1 }, now)).toBe("2027-03-02T12:00:00.000Z");
    expect(expiryFor({ mode: "never" }, now)).toBeNull();
    expect(expiryFor({ mode: "fixed_date", date: "2027-06-30" }, now)).toBe("2027-06-30T23:59:59.999Z");
  });

  it("an explicit expires_at wins in every mode, even after a fixed date; null does not", () => {
    const explicit = "2030-01-01T00:00:00.000Z";
    const late = new Date("2028-01-01T00:00:00.000Z");
    expect(expiryFor({ mode: "never" }, now, explicit)).toBe(explicit);
    expect(expiryFor({ mode: "fixed_date", date: "2027-06-30" }, late, explicit)).toBe(explicit);
    expect(expiryFor({ mode: "duration", days: 30 }, now, null)).toBe("2027-03-31T12:00:00.000Z");
  });

  it("a fixed date is inclusive to its last millisecond, then 409 invalid_state", () => {
    const fixed = { mode: "fixed_date", date: "2027-06-30" } as const;
    expect(endOfDay("2027-06-30")).toBe("2027-06-30T23:59:59.999Z");
    const last = new Date("2027-06-30T23:59:59.999Z");
    const after = new Date("2027-07-01T00:00:00.000Z");
    expect(fixedDatePassed(fixed, last)).toBe(false);
    expect(expiryFor(fixed, last)).toBe("2027-06-30T23:59:59.999Z");
    expect(fixedDatePassed(fixed, after)).toBe(true);
    expect(() => expiryFor(fixed, after)).toThrow(AppError);
    try {
      expiryFor(fixed, after);
    } catch (err) {
      expect((err as AppError).type).toBe("invalid_state");
    }
    expect(fixedDatePassed({ mode: "never" }, after)).toBe(false);
  });
});
