import { beforeAll, describe, expect, it } from "vitest";
import { expectValidation } from "../helpers/assertions";
import { makeSkill } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

const MS = "ms-search-limits";
/** A 100-character skill name (the longest allowed), mixed case, with spaces and hyphens. */
const LONG_NAME =
  "Laser Cutter-Safety Induction Level Two Advanced Engraving And Cutting Of Acrylic Wood Card Paper XY".slice(0, 100);

async function search(q: string) {
  return callJson<{ name: string }[]>("GET", `/api/v1/skills/?makerspace_id=${MS}&q=${encodeURIComponent(q)}`, {
    token: await admin(MS),
  });
}

describe("GET /skills/?q= at and past its 100-character limit", () => {
  beforeAll(async () => {
    expect(LONG_NAME).toHaveLength(100);
    await makeSkill({ makerspace_id: MS, name: LONG_NAME });
    await makeSkill({ makerspace_id: MS, name: "Band Saw" });
  });

  it.each([1, 49, 50, 51, 99, 100])("a %i-character q is served and matches case-insensitively", async (n) => {
    const res = await search(LONG_NAME.slice(0, n).toLowerCase());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.map((s) => s.name)).toEqual([LONG_NAME]);
  });

  it("a q from the middle of the name, upper-cased, matches", async () => {
    const res = await search(LONG_NAME.slice(30, 95).toUpperCase());
    expect(res.status).toBe(200);
    expect(res.body.map((s) => s.name)).toEqual([LONG_NAME]);
  });

  it.each([
    ["13 emoji", "🔥".repeat(13)],
    ["100 emoji (100 characters, 400 bytes of UTF-8)", "🔥".repeat(100)],
    ["25 %", "%".repeat(25)],
    ["100 %", "%".repeat(100)],
    ["100 _", "_".repeat(100)],
    ["100 accented letters", "é".repeat(100)],
    ["backslashes and quotes", "\\'\"%_".repeat(20)],
  ])("%s: served (no match), never a 500", async (_label, q) => {
    const res = await search(q);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual([]);
  });

  it("wildcards are literal: % and _ match only themselves", async () => {
    expect((await search("%")).body).toEqual([]);
    expect((await search("r_c")).body).toEqual([]);
    expect((await search("r C")).body.map((s) => s.name)).toEqual([LONG_NAME]);
  });

  it("101 characters is 422 (characters are code points: 101 emoji too)", async () => {
    expectValidation(await search("a".repeat(101)), ["q"]);
    expectValidation(await search("🔥".repeat(101)), ["q"]);
  });
});
