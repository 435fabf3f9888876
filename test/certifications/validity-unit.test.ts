import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  endOfDay,
  expiryFor,
  expirySql,
  fixedDateOpenSql,
  fixedDatePassed,
  validityColumns,
  validityOf,
} from "../../src/certifications/validity";
import type { ValidityInput } from "../../src/certifications/validity.schemas";
import { createDb } from "../../src/platform/db/client";
import { skills } from "../../src/platform/db/schema";
import { AppError } from "../../src/platform/errors";

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

describe("expirySql / fixedDateOpenSql (the same rule, inside a grant's batch)", () => {
  it("give expiryFor's instant to the millisecond, and refuse exactly where it throws", async () => {
    const db = createDb(env.SHARD_0);
    const validities: (ValidityInput | null)[] = [
      null,
      { mode: "duration", days: 1 },
      { mode: "duration", days: 3650 },
      { mode: "renew_on_use", days: 90 },
      { mode: "never" },
      { mode: "fixed_date", date: "2027-06-30" },
      { mode: "fixed_date", date: "2028-02-29" },
    ];
    const instants = [
      "2027-03-01T12:00:00.000Z",
      "2027-06-30T23:59:59.999Z",
      "2027-07-01T00:00:00.000Z",
      "2028-02-28T07:08:09.123Z",
      "2026-12-31T23:59:59.001Z",
    ].map((t) => new Date(t));
    for (const [i, validity] of validities.entries()) {
      const id = `sk_expiry_sql_${i}_${crypto.randomUUID()}`;
      const at = "2027-01-01T00:00:00.000Z";
      const columns = validityColumns(validity);
      await db.insert(skills).values({
        id,
        name: id,
        category: "c",
        level: "beginner",
        makerspaceId: "ms-sql",
        ...columns,
        createdAt: at,
        updatedAt: at,
      });
      for (const cfg of [config, { SKILL_CERTIFICATION_EXPIRY_DAYS: 30 }]) {
        for (const now of instants) {
          const row = await db.get<{ expiry: string | null; open: number }>(
            sql`select ${expirySql(id, now, cfg)} as expiry, ${fixedDateOpenSql(id, now)} as open`,
          );
          const label = `${JSON.stringify(validity)} at ${now.toISOString()}`;
          const rule = validityOf(columns, cfg);
          expect(row.open === 1, label).toBe(!fixedDatePassed(rule, now));
          if (!fixedDatePassed(rule, now)) expect(row.expiry, label).toBe(expiryFor(rule, now));
        }
      }
    }
  });
});
