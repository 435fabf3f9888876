import { describe, expect, it } from "vitest";
import { expectValidation } from "../helpers/assertions";
import { countingEnv } from "../helpers/counting-d1";
import { makeSkill } from "../helpers/factories";
import { importCsv } from "../helpers/imports";
import { countOnEveryShard } from "../helpers/shards";

const MAX_BYTES = 2 * 1024 * 1024;
const ROWS = 10_000;

/**
 * 2,000 members × 5 skills, the second of which needs the first (so the file grants its own
 * prerequisites), padded with notes to exactly 2 MiB: the largest file the contract allows.
 */
async function largestFile(): Promise<{ csv: string; skillIds: string[] }> {
  const first = await makeSkill();
  const second = await makeSkill({ prerequisite_ids: [first.id] });
  const rest = [await makeSkill(), await makeSkill(), await makeSkill()];
  const skillIds = [first.id, second.id, ...rest.map((s) => s.id)];
  const header = "user_id,skill_id,expires_at,notes\r\n";
  const rows: string[] = [];
  for (let u = 0; u < ROWS / skillIds.length; u++) {
    for (const skillId of skillIds) rows.push(`scale-${String(u).padStart(5, "0")},${skillId},2031-01-01,`);
  }
  const bare = header.length + rows.reduce((n, r) => n + r.length + 2, 0);
  const pad = MAX_BYTES - bare;
  const each = Math.floor(pad / rows.length);
  const extra = pad - each * rows.length;
  const csv = header + rows.map((r, i) => `${r}${"n".repeat(each + (i < extra ? 1 : 0))}\r\n`).join("");
  return { csv, skillIds };
}

describe("a 10,000-row, 2 MiB import in one call", () => {
  it("imports within Workers' limits, then a second import changes nothing", async () => {
    const { csv, skillIds } = await largestFile();
    expect(new TextEncoder().encode(csv).byteLength).toBe(MAX_BYTES);
    const { env: counted, counter } = countingEnv();

    const started = Date.now();
    const first = await importCsv(csv, { env: counted });
    const firstMs = Date.now() - started;
    expect(first.status, JSON.stringify(first.body).slice(0, 500)).toBe(200);
    expect(first.body).toEqual({ dry_run: false, created: ROWS, renewed: 0, unchanged: 0, failed: 0, errors: [] });
    const firstTrips = counter.roundTrips;
    // D1's limits per statement, and Workers' 1,000 queries per invocation, with room to spare.
    expect(counter.maxParams).toBeLessThanOrEqual(100);
    expect(counter.maxSqlBytes).toBeLessThan(100_000);
    expect(counter.maxParamBytes).toBeLessThan(100_000);
    expect(firstTrips).toBeLessThanOrEqual(50);

    const stored = await countOnEveryShard(
      `select count(*) as n from user_skills where user_id like 'scale-%' and status = 'certified'
         and skill_id in (select value from json_each(?))`,
      JSON.stringify(skillIds),
    );
    expect(stored).toBe(ROWS);

    counter.reset();
    const again = Date.now();
    const second = await importCsv(csv, { env: counted });
    const secondMs = Date.now() - again;
    expect(second.body).toEqual({ dry_run: false, created: 0, renewed: 0, unchanged: ROWS, failed: 0, errors: [] });
    console.log(
      `10,000-row import (2 MiB): ${firstMs} ms, ${firstTrips} D1 round trips; again (all unchanged): ${secondMs} ms, ${counter.roundTrips} round trips`,
    );
  });

  it("10,001 rows are a 422", async () => {
    const skill = await makeSkill();
    const rows = Array.from({ length: ROWS + 1 }, (_, i) => `over-${i},${skill.id}`);
    const res = await importCsv(`user_id,skill_id\n${rows.join("\n")}\n`);
    expectValidation(res, ["body"]);
  });
});
