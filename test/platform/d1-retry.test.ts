import { describe, expect, it } from "vitest";
import { isReadOnlySql, isTransientD1Error, retryRead } from "../../src/platform/db/retry";
import { TRANSIENT_D1_ERRORS } from "../helpers/faulty-d1";

describe("isReadOnlySql", () => {
  it.each([
    'select "id" from "skills" where "id" = ?',
    "  SELECT 1",
    "with recursive reach(id) as (select 1) select * from reach",
    'select "updated_at", "created_at" from "user_skills"',
  ])("%s is a read", (query) => expect(isReadOnlySql(query)).toBe(true));

  it.each([
    'insert into "skills" ("id") values (?)',
    'update "devices" set "token_jti" = ?',
    'delete from "audit_outbox" where "id" in (select value from json_each(?))',
    "with x as (select 1) insert into t select * from x",
    "replace into t values (1)",
  ])("%s is a write", (query) => expect(isReadOnlySql(query)).toBe(false));
});

describe("isTransientD1Error", () => {
  it.each(TRANSIENT_D1_ERRORS)("%s is transient, also as a wrapped cause", (message) => {
    expect(isTransientD1Error(new Error(message))).toBe(true);
    expect(isTransientD1Error(new Error("Failed query: select 1", { cause: new Error(message) }))).toBe(true);
  });

  it.each(["D1_ERROR: UNIQUE constraint failed: skills.id", "D1_ERROR: no such table: nope", "boom"])(
    "%s is not",
    (message) => expect(isTransientD1Error(new Error(message))).toBe(false),
  );
});

describe("retryRead", () => {
  it("gives up after 3 tries with 503 unavailable, carrying the last error as its cause", async () => {
    let tries = 0;
    const failing = () => {
      tries += 1;
      return Promise.reject(new Error("D1_ERROR: Network connection lost."));
    };
    await expect(retryRead(failing)).rejects.toMatchObject({
      type: "unavailable",
      status: 503,
      retryAfterSeconds: 1,
      cause: expect.objectContaining({ message: "D1_ERROR: Network connection lost." }),
    });
    expect(tries).toBe(3);
  });

  it("stops early when the next wait would pass the time budget", async () => {
    let tries = 0;
    const failing = () => {
      tries += 1;
      return Promise.reject(new Error("D1_ERROR: Network connection lost."));
    };
    await expect(retryRead(failing, { attempts: 10, budgetMs: 0, baseDelayMs: 50 })).rejects.toMatchObject({
      type: "unavailable",
    });
    expect(tries).toBe(1);
  });
});
