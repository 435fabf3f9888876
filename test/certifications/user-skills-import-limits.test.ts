import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { userSkillsKey } from "../../src/certifications/cache";
import { applyImport } from "../../src/certifications/import/apply";
import { loadImportData } from "../../src/certifications/import/load";
import { planImport } from "../../src/certifications/import/plan";
import { parseImport } from "../../src/certifications/import/rows";
import { ImportResultSchema } from "../../src/certifications/import/schemas";
import { csvLine } from "../../src/platform/csv";
import { buildDeps } from "../../src/platform/deps";
import { newId } from "../../src/platform/ids";
import { iso } from "../../src/platform/time";
import { expectError, expectValidation } from "../helpers/assertions";
import { auditEvent, deliver } from "../helpers/audit";
import { type UserSkillBody, uniqueUser } from "../helpers/certifications";
import { makeSkill } from "../helpers/factories";
import { expectContractError, hostileString } from "../helpers/hostile";
import { callJson } from "../helpers/http";
import { importCsv, importEvents } from "../helpers/imports";
import { unlimitedKv } from "../helpers/rate-limited-kv";
import { runOnEveryShard, shardOf } from "../helpers/shards";
import { admin, member, superAdmin } from "../helpers/tokens";

const _DAY = 86_400_000;

async function rowsOf(userId: string): Promise<UserSkillBody[]> {
  const res = await callJson<UserSkillBody[]>("GET", `/api/v1/skills/user-skills?user_id=${userId}&limit=200`, {
    token: await admin(),
  });
  return res.body;
}

describe("POST /skills/user-skills/import: a broken file is a 422, a big one a 413", () => {
  it.each([
    ["an empty body", "", "header", "a header row is required"],
    ["an unknown column", "user_id,skill_id,expires\n", "header", 'unknown column "expires"'],
    ["a repeated column", "user_id,skill_id,USER_ID\n", "header", "column user_id appears twice"],
    ["no skill column", "user_id,notes\n", "header", "a skill_id or skill_name column is required"],
    ["no user column", "skill_id\n", "header", "a user_id column is required"],
    ["semicolons", "user_id;skill_id\nu;s\n", "header", "separated by commas"],
    ["a quote never closed", 'user_id,skill_id\nu-1,"s\nu-2,s\n', "body", "record 2: quoted field is never closed"],
  ])("%s", async (_why, csv, path, message) => {
    const res = await importCsv(csv);
    expectValidation(res, [path]);
    expect(JSON.stringify(res.body)).toContain(message.replace(/"/g, '\\"'));
  });

  it("a body that is not UTF-8", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("user_id,skill_id\nu-"), 0xff, 0xfe, 0x0a]);
    expectValidation(await importCsv(bytes), ["body"]);
  });

  it("a JSON content type does not turn the CSV into JSON", async () => {
    const skill = await makeSkill();
    const res = await importCsv(`user_id,skill_id\n${uniqueUser()},${skill.id}\n`, {
      headers: { "content-type": "application/json" },
    });
    expect(res.body).toMatchObject({ created: 1 });
  });

  it("413 past 2 MiB, in the contract's error shape", async () => {
    const res = await importCsv(`user_id,skill_id,notes\n${"x".repeat(2 * 1024 * 1024)}`);
    expectError(res, 413, "payload_too_large");
    expect(res.body).toMatchObject({ detail: "Request body is larger than 2 MiB" });
  });

  it("other bodies keep their 64 KiB limit", async () => {
    const res = await callJson("POST", "/api/v1/skills/user-skills", {
      token: await admin(),
      rawBody: JSON.stringify({ user_id: "x".repeat(70 * 1024) }),
    });
    expectError(res, 413, "payload_too_large");
  });
});

describe("POST /skills/user-skills/import: who may import", () => {
  it("members 403; a super_admin names the makerspace (422 without); another makerspace 403", async () => {
    expectError(await importCsv("user_id,skill_id\n", { token: await member() }), 403, "forbidden");
    expectValidation(await importCsv("user_id,skill_id\n", { token: await superAdmin() }), ["makerspace_id"]);
    const ok = await importCsv("user_id,skill_id\n", { token: await superAdmin(), query: "makerspace_id=ms-1" });
    expect(ok.body).toMatchObject({ created: 0, failed: 0 });
    expectError(await importCsv("user_id,skill_id\n", { query: "makerspace_id=ms-2" }), 403, "forbidden");
  });

  it("GET on the import path is 405, not a certification lookup", async () => {
    const res = await callJson("GET", "/api/v1/skills/user-skills/import", { token: await admin() });
    expectError(res, 405, "method_not_allowed");
  });
});

describe("POST /skills/user-skills/import: hostile cells", () => {
  it("any text in any cell (quoted as a spreadsheet would) is a 200 with row errors, never a 5xx", async () => {
    const skill = await makeSkill();
    const cell = fc.oneof(hostileString, fc.constantFrom(skill.id, skill.name, "2030-01-01", "pending", "95%", ""));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        async (rows) => {
          const csv = csvLine(["user_id", "skill_id", "expires_at", "notes"]) + rows.map((r) => csvLine(r)).join("");
          const res = await importCsv(csv, { dryRun: true });
          const text = JSON.stringify(res.body);
          expect(res.status, text).toBeLessThan(500);
          if (res.status === 200) expect(ImportResultSchema.safeParse(res.body).success, text).toBe(true);
          else expectContractError(res.status, text, csv.slice(0, 200));
        },
      ),
      { numRuns: 60, seed: Number(env.FC_SEED) },
    );
  });
});

describe("POST /skills/user-skills/import: the rules hold at the write", () => {
  it("rows whose rule stopped holding after the read are not written, and neither are their events", async () => {
    const skill = await makeSkill();
    const users = [uniqueUser(), uniqueUser()];
    // On ms-1's shard, as the request would be routed.
    const shard = (await shardOf("ms-1")) ?? undefined;
    const deps = buildDeps(env, createExecutionContext(), "test", { shard });
    const parsed = parseImport(`user_id,skill_id\n${users[0]},${skill.id}\n${users[1]},${skill.id}\n`, iso(deps.now));
    const data = await loadImportData(deps, "ms-1", parsed.rows);
    const plan = planImport(parsed.rows, {
      config: deps.config,
      now: deps.now,
      ...data,
      newId: () => newId("us", deps),
    });
    expect(plan.writes).toHaveLength(2);
    // Archived between the import's read and its write, as a concurrent PUT would.
    await runOnEveryShard("update skills set status = 'archived' where id = ?", skill.id);
    const result = await applyImport(deps, plan.writes, {
      makerspaceId: "ms-1",
      actor: "admin-1",
      importId: "imp_race",
    });
    expect(result.applied).toEqual([]);
    expect(result.skipped.map((w) => w.row)).toEqual([2, 3]);
    expect(await rowsOf(users[0] as string)).toEqual([]);
    expect(await importEvents("imp_race")).toEqual({});
  });

  it("the audit consumer drops the KV entries of users an import changed", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    // Seeded under the KV write-rate wrapper: the seed is the test's write, not the Worker's.
    const key = userSkillsKey("ms-1", user);
    await unlimitedKv(env.USER_SKILLS_CACHE).put(key, JSON.stringify({ v: 1, certifications: [] }));
    const event = auditEvent({
      user_id: user,
      skill_id: skill.id,
      metadata: { import_id: "imp_kv", user_skill_id: "us_x" },
    });
    await deliver([event]);
    expect(await env.USER_SKILLS_CACHE.get(key)).toBeNull();
  });
});
