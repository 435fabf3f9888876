import { expect } from "vitest";
import { idTag } from "../../src/platform/db/shards";
import { callJson } from "./http";
import { shardDb, shardOf } from "./shards";
import { admin } from "./tokens";

let counter = 0;
/** A name unique within the test file (skill names are unique per makerspace). */
export function uniqueName(prefix = "Skill"): string {
  counter += 1;
  return `${prefix} ${counter} ${crypto.randomUUID().slice(0, 8)}`;
}

export interface SkillFixture {
  id: string;
  name: string;
  makerspace_id: string;
  level: string;
  category: string;
  prerequisite_ids: string[];
  equipment_ids: string[];
  validity: Record<string, unknown>;
}

/** Creates a skill through the API as an admin of its makerspace. */
export async function makeSkill(
  fields: Partial<{
    name: string;
    category: string;
    level: string;
    makerspace_id: string;
    prerequisite_ids: string[];
    equipment_ids: string[];
    status: string;
    description: string;
    validity: Record<string, unknown> | null;
  }> = {},
): Promise<SkillFixture> {
  const makerspace = fields.makerspace_id ?? "ms-1";
  const res = await callJson<SkillFixture>("POST", "/api/v1/skills/", {
    token: await admin(makerspace),
    body: { name: uniqueName(), category: "Safety", level: "beginner", makerspace_id: makerspace, ...fields },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export interface EquipmentFixture {
  id: string;
  name: string;
  makerspace_id: string;
  status: string;
  required_skill_ids: string[];
}

/** Registers equipment through the API as an admin of its makerspace. */
export async function makeEquipment(
  fields: Partial<{
    id: string;
    name: string;
    makerspace_id: string;
    status: string;
    category: string;
    location: string;
  }> = {},
): Promise<EquipmentFixture> {
  const makerspace = fields.makerspace_id ?? "ms-1";
  const res = await callJson<EquipmentFixture>("POST", "/api/v1/equipment", {
    token: await admin(makerspace),
    body: { name: uniqueName("Machine"), makerspace_id: makerspace, ...fields },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/**
 * Writes a certification row straight into D1, for seeding states the API would refuse
 * (e.g. certified without prerequisites) or that take time (expired). Tests of the grant rules
 * themselves go through the API.
 */
export async function seedCertification(row: {
  user_id: string;
  skill_id: string;
  makerspace_id?: string;
  status?: "pending" | "certified" | "expired" | "revoked";
  expires_at?: string | null;
}): Promise<string> {
  const makerspace = row.makerspace_id ?? "ms-1";
  const db = await shardDb(makerspace);
  // Tagged like the service's ids, so a super_admin's read by id finds its shard.
  const id = `us_${idTag((await shardOf(makerspace)) ?? "SHARD_0")}_seed_${crypto.randomUUID()}`;
  const now = new Date().toISOString();
  await db
    .prepare(
      `insert into user_skills (id, user_id, skill_id, makerspace_id, status, certified_at, expires_at, certified_by, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, 'seed', ?, ?)`,
    )
    .bind(
      id,
      row.user_id,
      row.skill_id,
      makerspace,
      row.status ?? "certified",
      now,
      row.expires_at === undefined ? new Date(Date.now() + 86_400_000 * 30).toISOString() : row.expires_at,
      now,
      now,
    )
    .run();
  return id;
}
