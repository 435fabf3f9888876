import { describe, expect, it } from "vitest";
import { errorFields, errorText } from "../../src/platform/logger";

describe("error text in logs", () => {
  const drizzleLike = () => {
    const err = new Error('Failed query: select "id" from "badges" where "uid_sha256" = ?\nparams: 9f86d081884c7d65');
    err.name = "DrizzleQueryError";
    err.cause = new Error("D1_ERROR: no such table: badges");
    return err;
  };

  it("cuts bound parameters out of query errors", () => {
    expect(errorText(drizzleLike())).toBe(
      'Failed query: select "id" from "badges" where "uid_sha256" = ?\nparams: [redacted]',
    );
    const fields = errorFields(drizzleLike());
    expect(JSON.stringify(fields)).not.toContain("9f86d081884c7d65");
    expect(fields).toMatchObject({ name: "DrizzleQueryError", cause: "D1_ERROR: no such table: badges" });
  });

  it("leaves other errors as they are", () => {
    expect(errorText(new Error("KV PUT failed: 429"))).toBe("KV PUT failed: 429");
    expect(errorText("plain")).toBe("plain");
  });
});
