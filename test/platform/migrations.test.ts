import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LATEST_MIGRATION } from "../../src/platform/db/migrations";

describe("LATEST_MIGRATION", () => {
  it("names the last file in migrations/ (update it with every new migration)", () => {
    expect(LATEST_MIGRATION).toBe(env.TEST_MIGRATIONS.at(-1)?.name);
  });
});
