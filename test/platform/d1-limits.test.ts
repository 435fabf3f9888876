import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { D1_MAX_STATEMENT_BYTES } from "../helpers/d1-limits";

/** The test env's D1 refuses what production refuses (test/setup/platform-limits.ts). */
describe("D1 under production limits", () => {
  it("a statement over 100 KB is refused; one at the limit runs", async () => {
    const pad = (bytes: number) => `select 1 as n /* ${"x".repeat(bytes - "select 1 as n /*  */".length)} */`;
    expect(() => env.SHARD_1.prepare(pad(D1_MAX_STATEMENT_BYTES + 1))).toThrow(/statement too long/);
    expect(await env.SHARD_1.prepare(pad(D1_MAX_STATEMENT_BYTES)).first()).toEqual({ n: 1 });
  });

  it("binding more than 100 parameters is refused; 100 run", async () => {
    const query = (n: number) => `select ${Array.from({ length: n }, () => "?").join(" + ")} as total`;
    const ones = (n: number) => Array.from({ length: n }, () => 1);
    expect(() => env.SHARD_1.prepare(query(101)).bind(...ones(101))).toThrow(/too many SQL variables/);
    expect(
      await env.SHARD_1.prepare(query(100))
        .bind(...ones(100))
        .first(),
    ).toEqual({ total: 100 });
  });

  it("batches of wrapped statements reach the real binding", async () => {
    const [a, b] = await env.SHARD_1.batch([
      env.SHARD_1.prepare("select 1 as n"),
      env.SHARD_1.prepare("select ? as n").bind(2),
    ]);
    expect([a?.results, b?.results]).toEqual([[{ n: 1 }], [{ n: 2 }]]);
  });
});

describe("D1 sessions under production limits", () => {
  it("a session opened on a limited binding is limited too (the Worker queries through sessions)", async () => {
    const session = env.SHARD_1.withSession("first-primary");
    const query = (n: number) => `select ${Array.from({ length: n }, () => "?").join(" + ")} as total`;
    expect(() => session.prepare(query(101)).bind(...Array.from({ length: 101 }, () => 1))).toThrow(
      /too many SQL variables/,
    );
    const [row] = await session.batch([session.prepare("select ? as n").bind(7)]);
    expect(row?.results).toEqual([{ n: 7 }]);
    expect(session.getBookmark()).toEqual(expect.any(String));
  });
});
