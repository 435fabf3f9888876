import { describe, expect, it } from "vitest";
import { type UserSkillBody, uniqueUser } from "../helpers/certifications";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { importCsv, importEvents } from "../helpers/imports";
import { allOnEveryShard, runOnEveryShard } from "../helpers/shards";
import { admin } from "../helpers/tokens";

const DAY = 86_400_000;

async function rowsOf(userId: string): Promise<UserSkillBody[]> {
  const res = await callJson<UserSkillBody[]>("GET", `/api/v1/skills/user-skills?user_id=${userId}&limit=200`, {
    token: await admin(),
  });
  return res.body;
}

describe("POST /skills/user-skills/import: rows follow the grant rules", () => {
  it("applies valid rows (prerequisites from earlier rows), lists failed ones, audits each and the import", async () => {
    const safety = await makeSkill({ name: `Laser Safety ${crypto.randomUUID().slice(0, 6)}` });
    const laser = await makeSkill({ prerequisite_ids: [safety.id] });
    const [ann, bob] = [uniqueUser("ann"), uniqueUser("bob")];
    // BOM, CRLF, columns in another order, a name instead of an id, quoted commas, quotes and a line break.
    const csv = [
      "\ufeffskill_name,user_id,expires_at,notes,quiz_score",
      `${safety.name},${ann},2030-06-30,"Evening induction, room B",95%`,
      `${laser.name.toUpperCase()},${ann},,"Said ""careful"" twice\nthen cut",88`,
      `${laser.name},${bob},,,`,
    ].join("\r\n");
    const res = await importCsv(csv);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      dry_run: false,
      created: 2,
      renewed: 0,
      unchanged: 0,
      failed: 1,
      errors: [{ row: 4, message: `Prerequisites not met: ${safety.name}` }],
    });

    const held = await rowsOf(ann);
    const bySkill = new Map(held.map((r) => [r.skill_id, r]));
    expect(bySkill.get(safety.id)).toMatchObject({
      status: "certified",
      expires_at: "2030-06-30T23:59:59.999Z",
      notes: "Evening induction, room B",
      quiz_score: "95%",
      certified_by: "admin-1",
    });
    expect(bySkill.get(laser.id)?.notes).toBe('Said "careful" twice\nthen cut');
    const expires = Date.parse(bySkill.get(laser.id)?.expires_at ?? "");
    expect(Math.abs(expires - (Date.now() + 365 * DAY))).toBeLessThan(60_000);
    expect(await rowsOf(bob)).toEqual([]);

    const events = await importEvents();
    expect(events.skill_granted).toBeGreaterThanOrEqual(2);
    const summary = await allOnEveryShard<{ payload: string }>(
      `select payload from audit_outbox where json_extract(payload, '$.action') = 'certifications_imported'
       union all select json_object('metadata', json(metadata), 'performed_by', performed_by) from skill_audit_logs
       where action = 'certifications_imported'`,
    );
    const metas = summary.map((r) => JSON.parse(r.payload).metadata);
    expect(metas).toContainEqual(
      expect.objectContaining({
        rows: 3,
        created: 2,
        renewed: 0,
        unchanged: 0,
        failed: 1,
        import_id: expect.stringMatching(/^imp_/),
      }),
    );
  });

  it("a second import of the same file changes nothing (unchanged) and writes no event", async () => {
    const skill = await makeSkill();
    const users = [uniqueUser(), uniqueUser(), uniqueUser()];
    const csv = [
      "user_id,skill_id,certified_at,expires_at,status",
      `${users[0]},${skill.id},2026-01-10,2027-01-10T00:00:00Z,certified`,
      `${users[1]},${skill.id},,,`,
      `${users[2]},${skill.id},,,pending`,
    ].join("\n");
    const first = await importCsv(csv);
    expect(first.body).toMatchObject({ created: 3, renewed: 0, unchanged: 0, failed: 0 });
    const before = await rowsOf(users[1] as string);
    const eventsBefore = await importEvents();

    const second = await importCsv(csv);
    expect(second.body).toEqual({ dry_run: false, created: 0, renewed: 0, unchanged: 3, failed: 0, errors: [] });
    expect(await rowsOf(users[1] as string)).toEqual(before);
    const eventsAfter = await importEvents();
    expect(eventsAfter.skill_granted).toBe(eventsBefore.skill_granted);
    expect(eventsAfter.skill_renewed ?? 0).toBe(eventsBefore.skill_renewed ?? 0);
  });

  it("renews stored rows that differ: revoked, expired, another date; a blank cell keeps the stored value", async () => {
    const skill = await makeSkill();
    const [revoked, expired, moved] = [uniqueUser(), uniqueUser(), uniqueUser()];
    await seedCertification({ user_id: revoked, skill_id: skill.id, status: "revoked" });
    await seedCertification({
      user_id: expired,
      skill_id: skill.id,
      expires_at: new Date(Date.now() - DAY).toISOString(),
    });
    const movedId = await seedCertification({ user_id: moved, skill_id: skill.id });
    await runOnEveryShard("update user_skills set notes = 'keep me' where id = ?", movedId);
    const csv = `user_id,skill_id,expires_at,notes\n${revoked},${skill.id},,\n${expired},${skill.id},,\n${moved},${skill.id},2031-01-01,\n`;
    const res = await importCsv(csv);
    expect(res.body).toMatchObject({ created: 0, renewed: 3, unchanged: 0, failed: 0 });
    const [row] = await rowsOf(moved);
    expect(row).toMatchObject({
      id: movedId,
      status: "certified",
      expires_at: "2031-01-01T23:59:59.999Z",
      notes: "keep me",
    });
    expect((await rowsOf(revoked))[0]?.status).toBe("certified");
  });

  it("a dry run reports the same counts and changes nothing", async () => {
    const skill = await makeSkill();
    const user = uniqueUser();
    const csv = `user_id,skill_id\n${user},${skill.id}\n${user},${skill.id}\n`;
    const dry = await importCsv(csv, { dryRun: true });
    expect(dry.body).toEqual({
      dry_run: true,
      created: 1,
      renewed: 0,
      unchanged: 0,
      failed: 1,
      errors: [{ row: 3, message: `user ${user} and this skill are already in row 2` }],
    });
    expect(await rowsOf(user)).toEqual([]);
    const real = await importCsv(csv);
    expect({ ...real.body, dry_run: true }).toEqual(dry.body);
  });
});

describe("POST /skills/user-skills/import: every bad row is reported", () => {
  it("names the record and column of each problem; the valid rows are still applied", async () => {
    const skill = await makeSkill();
    const archived = await makeSkill();
    await callJson("PUT", `/api/v1/skills/${archived.id}`, { token: await admin(), body: { status: "archived" } });
    const ok = uniqueUser();
    const csv = [
      "user_id,skill_id,expires_at,certified_at,status,quiz_score,notes", // 1
      `${ok},${skill.id},,,,,`, // 2: fine
      `,${skill.id},,,,,`, // 3: no user
      `u-4,skill_nope,,,,,`, // 4: unknown skill
      `u-5,${skill.id},next tuesday,,,,`, // 5: bad date
      `u-6,${skill.id},,,revoked,,`, // 6: bad status
      `u-7,${skill.id},2030-01-01,,pending,,`, // 7: pending with a date
      `u-8,${skill.id},,2999-01-01,,,`, // 8: certified in the future
      `u-9,${archived.id},,,,,`, // 9: not active
      `u-10,${skill.id},,,,12345678901,`, // 10: score too long
      `u-11,${skill.id},,,,,"multi`, // 11: one record over two lines, with an extra field
      `line",extra`,
      `u-12,${skill.id},,,,,bare"quote`, // 12 (records, not lines, are numbered)
      `u-13,${skill.id},2030-02-30,,,,`, // 13: no such day
      "", // 14: blank, skipped
      `u-15,${skill.id},2030-01-01,2030-06-01,,,`, // 15: certified in the future and expiring before it
    ].join("\n");
    const res = await importCsv(csv);
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(1);
    expect(res.body.failed).toBe(12);
    const errors = res.body.errors.map((e) => [e.row, e.column ?? null]);
    expect(errors).toEqual([
      [3, "user_id"],
      [4, "skill_id"],
      [5, "expires_at"],
      [6, "status"],
      [7, "expires_at"],
      [8, "certified_at"],
      [9, "skill_id"],
      [10, "quiz_score"],
      [11, null],
      [12, null],
      [13, "expires_at"],
      [15, "certified_at"],
      [15, "expires_at"],
    ]);
    expect(res.body.errors.find((e) => e.row === 9)?.message).toBe("Skill is archived, not active");
    expect(res.body.errors.find((e) => e.row === 11)?.message).toBe("has 8 fields; the header has 7");
    expect((await rowsOf(ok))[0]?.status).toBe("certified");
  });

  it("a skill_name that contradicts the skill_id is refused", async () => {
    const [a, b] = [await makeSkill(), await makeSkill()];
    const res = await importCsv(`user_id,skill_id,skill_name\nu-1,${a.id},${b.name}\nu-2,${a.id},${a.name}\n`, {
      dryRun: true,
    });
    expect(res.body).toMatchObject({ created: 1, failed: 1, errors: [{ row: 2, column: "skill_name" }] });
  });

  it("another makerspace's skill is not found", async () => {
    const other = await makeSkill({ makerspace_id: "ms-2" });
    const res = await importCsv(`user_id,skill_id\nu-1,${other.id}\n`, { dryRun: true });
    expect(res.body.errors).toEqual([{ row: 2, column: "skill_id", message: "Skill not found" }]);
  });
});

describe("POST /skills/user-skills/import: the skill's validity and its items' allow-lists", () => {
  it("a row without expires_at expires as a grant would (expiryFor), counted from certified_at", async () => {
    const never = await makeSkill({ validity: { mode: "never" } });
    const fixed = await makeSkill({ validity: { mode: "fixed_date", date: "2031-06-30" } });
    const month = await makeSkill({ validity: { mode: "duration", days: 30 } });
    const over = await makeSkill({ validity: { mode: "fixed_date", date: "2020-01-01" } });
    const [ann, bob] = [uniqueUser("ann"), uniqueUser("bob")];
    const certifiedAt = new Date(Date.now() - 5 * DAY).toISOString();
    const csv = [
      "user_id,skill_id,certified_at,expires_at",
      `${ann},${never.id},,`,
      `${ann},${fixed.id},,`,
      `${ann},${month.id},${certifiedAt},`,
      `${ann},${over.id},,`,
      `${bob},${over.id},,2031-01-31`,
    ].join("\n");
    const res = await importCsv(csv);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ created: 4, failed: 1 });
    expect(res.body.errors).toEqual([
      { row: 5, column: "expires_at", message: expect.stringContaining("ran until 2020-01-01") },
    ]);
    const held = new Map((await rowsOf(ann)).map((r) => [r.skill_id, r.expires_at]));
    expect(held.get(never.id)).toBeNull();
    expect(held.get(fixed.id)).toBe("2031-06-30T23:59:59.999Z");
    expect(held.get(month.id)).toBe(new Date(Date.parse(certifiedAt) + 30 * DAY).toISOString());
    expect(held.has(over.id)).toBe(false);
    // An explicit expires_at wins over a fixed date that has passed, as in a grant.
    expect((await rowsOf(bob))[0]?.expires_at).toBe("2031-01-31T23:59:59.999Z");
    // Imported again: the rows are unchanged, and the passed fixed date is still the one error.
    const again = await importCsv(csv);
    expect(again.body).toMatchObject({ created: 0, renewed: 0, unchanged: 4, failed: 1 });
  });

  it("moves the allow-list versions of the items linked to the imported skills, and no others", async () => {
    const [linked, other] = [await makeEquipment(), await makeEquipment()];
    const skill = await makeSkill({ equipment_ids: [linked.id] });
    const versions = async () => {
      const rows = await allOnEveryShard<{ id: string; v: number }>(
        "select id, allowlist_version as v from equipment where id in (?, ?)",
        linked.id,
        other.id,
      );
      return Object.fromEntries(rows.map((r) => [r.id, r.v]));
    };
    const before = await versions();
    await importCsv(`user_id,skill_id\n${uniqueUser()},${skill.id}\n`, { dryRun: true });
    expect(await versions()).toEqual(before);
    const res = await importCsv(`user_id,skill_id\n${uniqueUser()},${skill.id}\n${uniqueUser()},${skill.id}\n`);
    expect(res.body.created).toBe(2);
    const after = await versions();
    expect(after[linked.id]).toBeGreaterThan(before[linked.id] ?? 0);
    expect(after[other.id]).toBe(before[other.id]);
  });
});
