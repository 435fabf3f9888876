import { describe, expect, it } from "vitest";
import { makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { envBeforeNextBatch } from "../helpers/interleave";
import { shardDb } from "../helpers/shards";
import { admin } from "../helpers/tokens";

/**
 * The grant rules hold at the moment the write commits, not only when they were checked: a
 * prerequisite revoked (or the skill archived) between the check and the batch stops the grant.
 */
describe("grant rules re-checked inside the write", () => {
  const envChangingBeforeNextBatch = (sql: string) => envBeforeNextBatch((db) => db.prepare(sql).run());

  it("a prerequisite revoked just before the batch: 409 prerequisites_not_met, nothing granted", async () => {
    const base = await makeSkill({ name: "Race Base Safety" });
    const advanced = await makeSkill({ name: "Race Advanced Cutting", prerequisite_ids: [base.id] });
    const prereqRow = await seedCertification({ user_id: "racer-1", skill_id: base.id });
    const res = await callJson("POST", "/api/v1/skills/user-skills", {
      token: await admin(),
      body: { user_id: "racer-1", skill_id: advanced.id },
      env: envChangingBeforeNextBatch(`update user_skills set status = 'revoked' where id = '${prereqRow}'`),
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error_type: "prerequisites_not_met",
      missing_prerequisites: ["Race Base Safety"],
    });
    const rows = await (await shardDb("ms-1"))
      .prepare("select count(*) as n from user_skills where user_id = 'racer-1' and skill_id = ?")
      .bind(advanced.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
    const events = await (await shardDb("ms-1"))
      .prepare(
        "select count(*) as n from audit_outbox where json_extract(payload, '$.skill_id') = ? and json_extract(payload, '$.user_id') = 'racer-1'",
      )
      .bind(advanced.id)
      .first<{ n: number }>();
    expect(events?.n).toBe(0);
  });

  it("a skill archived just before the batch: 409 invalid_state, nothing granted", async () => {
    const skill = await makeSkill();
    const res = await callJson("POST", "/api/v1/skills/user-skills", {
      token: await admin(),
      body: { user_id: "racer-2", skill_id: skill.id },
      env: envChangingBeforeNextBatch(`update skills set status = 'archived' where id = '${skill.id}'`),
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error_type: "invalid_state" });
    const rows = await (await shardDb("ms-1"))
      .prepare("select count(*) as n from user_skills where user_id = 'racer-2'")
      .first<{
        n: number;
      }>();
    expect(rows?.n).toBe(0);
  });
});
