import { env } from "cloudflare:workers";
import { and, eq, type SQL, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { USER_SKILL_STATUSES } from "../../src/certifications/certifications.schemas";
import { certificationFields, toUserSkill, userSkillColumns } from "../../src/certifications/row";
import {
  effectiveStatus,
  effectiveStatusSql,
  expiringBySql,
  hasLapsed,
  inForceSql,
  inForceWithExpirySql,
  isExpiringBy,
  isInForce,
  isInForceWithExpiry,
  isUnexpired,
  lapsedSql,
  type RuleRow,
  unexpiredSql,
} from "../../src/certifications/rules";
import { createDb } from "../../src/platform/db/client";
import { skills, userSkills } from "../../src/platform/db/schema";

const db = createDb(env.SHARD_0);
const now = new Date("2027-03-01T12:00:00.000Z");
const nowIso = now.toISOString();
const ms = (delta: number) => new Date(now.getTime() + delta).toISOString();
const DAY = 86_400_000;
/** 1 when the condition holds as a WHERE reads it (SQL's null, like false, selects nothing), else 0. */
const holds = (condition: SQL) => sql<number>`(case when ${condition} then 1 else 0 end)`;
const untilIso = ms(7 * DAY);

/** Every status against expiries at the boundaries of "now" and of a 7-day window. */
const EXPIRIES = [null, ms(-1), nowIso, ms(1), ms(7 * DAY - 1), untilIso, ms(7 * DAY + 1), ms(-DAY)];

describe("certification rules: each TypeScript function agrees with its SQL twin on the same D1 rows", () => {
  it("in force, unexpired, in force with an expiry, expiring by, lapsed and the effective status", async () => {
    const makerspaceId = `ms-rules-${crypto.randomUUID()}`;
    const skillId = `sk_rules_${crypto.randomUUID()}`;
    await db.insert(skills).values({
      id: skillId,
      name: skillId,
      category: "c",
      level: "beginner",
      makerspaceId,
      createdAt: nowIso,
      updatedAt: nowIso,
    });
    const rows: (RuleRow & { id: string })[] = [];
    for (const status of USER_SKILL_STATUSES) {
      for (const [i, expires_at] of EXPIRIES.entries()) {
        const id = `us_rules_${status}_${i}_${crypto.randomUUID()}`;
        rows.push({ id, status, expires_at });
        await db.insert(userSkills).values({
          id,
          userId: id,
          skillId,
          makerspaceId,
          status,
          expiresAt: expires_at,
          createdAt: nowIso,
          updatedAt: nowIso,
        });
      }
    }
    const t = userSkills;
    const read = await db
      .select({
        ...certificationFields("id", "user_id", "skill_id", "makerspace_id", "status", "certified_at"),
        ...certificationFields("expires_at", "certified_by", "notes", "quiz_score", "last_use_renewal_at"),
        ...certificationFields("created_at", "updated_at"),
        unexpired: holds(unexpiredSql(nowIso, t)),
        inForce: holds(inForceSql(nowIso, t)),
        withExpiry: holds(inForceWithExpirySql(nowIso, t)),
        expiring: holds(expiringBySql(nowIso, untilIso, t)),
        lapsed: holds(lapsedSql(nowIso, t)),
        effective: sql<string>`${effectiveStatusSql(nowIso, t)}`,
      })
      .from(userSkills)
      .where(eq(userSkills.makerspaceId, makerspaceId))
      .all();
    expect(read).toHaveLength(rows.length);
    for (const r of read) {
      const label = `${r.status} expiring ${r.expires_at} at ${nowIso}`;
      expect(r.unexpired === 1, label).toBe(isUnexpired(r.expires_at, nowIso));
      expect(r.inForce === 1, label).toBe(isInForce(r, nowIso));
      expect(r.withExpiry === 1, label).toBe(isInForceWithExpiry(r, nowIso));
      expect(r.expiring === 1, label).toBe(isExpiringBy(r, nowIso, untilIso));
      expect(r.lapsed === 1, label).toBe(hasLapsed(r, nowIso));
      expect(r.effective, label).toBe(effectiveStatus(r, nowIso));
    }
    // The boundaries themselves: expiring exactly now is expired; one ms later is in force.
    const at = (expires: string | null) => read.find((r) => r.status === "certified" && r.expires_at === expires);
    expect(at(nowIso)?.inForce).toBe(0);
    expect(at(nowIso)?.effective).toBe("expired");
    expect(at(ms(1))?.inForce).toBe(1);
    expect(at(null)?.inForce).toBe(1);
    expect(at(null)?.withExpiry).toBe(0);
    expect(at(untilIso)?.expiring).toBe(1);
    expect(at(ms(7 * DAY + 1))?.expiring).toBe(0);

    // One mapper to the API shape: the TypeScript mapper and the selection give the same rows.
    const api = await db
      .select(userSkillColumns(nowIso))
      .from(userSkills)
      .innerJoin(skills, eq(skills.id, userSkills.skillId))
      .where(and(eq(userSkills.makerspaceId, makerspaceId)))
      .all();
    const byId = new Map(read.map((r) => [r.id, r]));
    for (const row of api) {
      const stored = byId.get(row.id);
      if (!stored) throw new Error(`row ${row.id} not read`);
      const { unexpired, inForce, withExpiry, expiring, lapsed, effective, ...certification } = stored;
      expect(toUserSkill(certification, skillId, nowIso)).toEqual(row);
      expect(Object.keys(toUserSkill(certification, skillId, nowIso))).toEqual(Object.keys(row));
    }
  });
});
