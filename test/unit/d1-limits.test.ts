import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { D1_MAX_STATEMENT_BYTES } from "../helpers/d1-limits";

/** The test env's D1 refuses what production refuses (test/setup/platform-limits.ts). */
describe("D1 under production limits", () => {
  it("a statement over 100 KB is refused; one at the limit runs", async () => {
    const pad = (bytes: number) => `select 1 as n /* ${"x".repeat(bytes - "select 1 as n /*  */".length)} */`;
    expect(() => env.DB.prepare(pad(D1_MAX_STATEMENT_BYTES + 1))).toThrow(/statement too long/);
    expect(await env.DB.prepare(pad(D1_MAX_STATEMENT_BYTES)).first()).toEqual({ n: 1 });
  });

  it("binding more than 100 parameters is refused; 100 run", async () => {
    const query = (n: number) => `select ${Array.from({ length: n }, () => "?").join(" + ")} as total`;
    const ones = (n: number) => Array.from({ length: n }, () => 1);
    expect(() => env.DB.prepare(query(101)).bind(...ones(101))).toThrow(/too many SQL variables/);
    expect(
      await env.DB.prepare(query(100))
        .bind(...ones(100))
        .first(),
    ).toEqual({ total: 100 });
  });

  it("batches of wrapped statements reach the real binding", async () => {
    const [a, b] = await env.DB.batch([env.DB.prepare("select 1 as n"), env.DB.prepare("select ? as n").bind(2)]);
    expect([a?.results, b?.results]).toEqual([[{ n: 1 }], [{ n: 2 }]]);
  });
});
