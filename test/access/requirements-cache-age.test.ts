import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { clearRequirementsCache } from "../../src/access/requirements-cache";
import { loadBulkCheck, loadSingleCheck } from "../../src/access/store";
import { buildDeps } from "../../src/platform/deps";
import { countingEnv } from "../helpers/counting-d1";
import { makeEquipment, makeSkill } from "../helpers/factories";
import { shardOf } from "../helpers/shards";

/**
 * The per-isolate requirements cache is bounded in age from the D1 read that filled it: hits do
 * not refresh it, so an edit made through another isolate is seen at most 30 s later even while
 * checks keep arriving.
 */
describe("per-isolate requirements cache age", () => {
  const t0 = Date.parse("2026-11-24T12:00:00.000Z");

  async function roundTripsAt(offsetMs: number, load: (deps: ReturnType<typeof buildDeps>) => Promise<unknown>) {
    const { env, counter } = countingEnv();
    const ctx = createExecutionContext();
    const shard = (await shardOf("ms-1")) ?? "SHARD_0";
    await load(buildDeps(env, ctx, "age-test", { now: new Date(t0 + offsetMs), shard }));
    await waitOnExecutionContext(ctx);
    return counter.roundTrips;
  }

  it("single checks: hits within 30 s, then a D1 read however often it was hit", async () => {
    clearRequirementsCache();
    const eq = await makeEquipment();
    await makeSkill({ equipment_ids: [eq.id] });
    const single = (deps: ReturnType<typeof buildDeps>) => loadSingleCheck(deps, eq.id, "age-user", "cached", "ms-1");
    expect(await roundTripsAt(0, single)).toBe(1);
    expect(await roundTripsAt(10_000, single)).toBe(0);
    expect(await roundTripsAt(20_000, single)).toBe(0);
    expect(await roundTripsAt(31_000, single)).toBe(1);
  });

  it("bulk checks: the makerspace list ages the same way", async () => {
    clearRequirementsCache();
    const bulk = (deps: ReturnType<typeof buildDeps>) => loadBulkCheck(deps, "ms-1", "age-user-2", "cached");
    expect(await roundTripsAt(0, bulk)).toBe(1);
    expect(await roundTripsAt(20_000, bulk)).toBe(0);
    expect(await roundTripsAt(31_000, bulk)).toBe(1);
  });
});
