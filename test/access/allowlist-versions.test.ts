import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { expireCertifications } from "../../src/cron/expiry";
import { buildDeps } from "../../src/platform/deps";
import { type BadgeBody, randomUid, registerBadge, registerDevice } from "../helpers/devices";
import {
  type EquipmentFixture,
  makeEquipment,
  makeSkill,
  type SkillFixture,
  seedCertification,
} from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { onEveryShard } from "../helpers/shards";
import { admin, member } from "../helpers/tokens";

/**
 * Every change that may alter an item's offline allow-list bumps that item's stored version in
 * the same batch, and no other item's: each case below takes the counters of two makerspaces'
 * items before and after one change and names exactly the items that moved.
 */
const MS = "ms-av";
const OTHER = "ms-av-other";

async function counters(): Promise<Map<string, number>> {
  const rows = await onEveryShard(
    async (db) =>
      (
        await db
          .prepare("select id, allowlist_version as v from equipment where makerspace_id in (?, ?)")
          .bind(MS, OTHER)
          .all<{ id: string; v: number }>()
      ).results,
  );
  return new Map(rows.map((r) => [r.id, r.v]));
}

/** The ids whose counter moved while `change` ran, sorted. */
async function bumpedBy(change: () => Promise<unknown>): Promise<string[]> {
  const before = await counters();
  await change();
  const after = await counters();
  return [...after]
    .filter(([id, v]) => v !== (before.get(id) ?? 0))
    .map(([id]) => id)
    .sort();
}

const sorted = (...items: EquipmentFixture[]) => items.map((i) => i.id).sort();
const ok = async (p: Promise<{ status: number; body: unknown }>, status = 200) => {
  const res = await p;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
};

describe("stored allow-list versions: every change kind bumps exactly its items", () => {
  let a: EquipmentFixture;
  let b: EquipmentFixture;
  let c: EquipmentFixture;
  let d: EquipmentFixture;
  let unlinked: EquipmentFixture;
  let elsewhere: EquipmentFixture;
  let s1: SkillFixture;
  let s2: SkillFixture;
  let s3: SkillFixture;
  let adminToken: string;

  beforeAll(async () => {
    adminToken = await admin(MS);
    const made = async (n: string) => makeEquipment({ name: `AV ${n}`, makerspace_id: MS });
    [a, b, c, d, unlinked] = [await made("A"), await made("B"), await made("C"), await made("D"), await made("U")];
    elsewhere = await makeEquipment({ makerspace_id: OTHER });
    s1 = await makeSkill({ makerspace_id: MS, equipment_ids: [a.id, b.id] });
    s2 = await makeSkill({ makerspace_id: MS, equipment_ids: [b.id, c.id] });
    s3 = await makeSkill({ makerspace_id: MS, equipment_ids: [d.id] });
    await makeSkill({ makerspace_id: OTHER, equipment_ids: [elsewhere.id] });
    await seedCertification({ user_id: "av-badge", skill_id: s1.id, makerspace_id: MS });
    await seedCertification({ user_id: "av-badge", skill_id: s3.id, makerspace_id: MS });
  });

  const grant = (user: string, skill: SkillFixture, extra: Record<string, unknown> = {}) =>
    callJson("POST", "/api/v1/skills/user-skills", {
      token: adminToken,
      body: { user_id: user, skill_id: skill.id, ...extra },
    });

  it("grant, renewal and revocation: the items linked to the skill", async () => {
    let id = "";
    expect(
      await bumpedBy(async () => {
        id = ((await ok(grant("av-1", s1), 201)) as { id: string }).id;
      }),
    ).toEqual(sorted(a, b));
    expect(await bumpedBy(() => ok(grant("av-1", s1, { notes: "renewed" })))).toEqual(sorted(a, b));
    expect(
      await bumpedBy(() => ok(callJson("POST", `/api/v1/skills/user-skills/${id}/revoke`, { token: adminToken }))),
    ).toEqual(sorted(a, b));
    // A refused change moves nothing.
    expect(
      await bumpedBy(async () => {
        const res = await callJson("POST", `/api/v1/skills/user-skills/${id}/revoke`, { token: adminToken });
        expect(res.status).toBe(409);
      }),
    ).toEqual([]);
  });

  it("renewal by use: the items requiring the renewed skill", async () => {
    const door = await makeEquipment({ name: "AV use", makerspace_id: MS });
    const skill = await makeSkill({
      makerspace_id: MS,
      equipment_ids: [door.id],
      validity: { mode: "renew_on_use", days: 30 },
    } as Parameters<typeof makeSkill>[0]);
    await ok(grant("av-use", skill), 201);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const verify = (user: string) =>
      callJson("POST", `/api/v1/skills/access/equipment/${door.id}/verify`, {
        token: adminToken,
        body: { user_id: user },
      });
    // A denied verify renews nothing; an allowed one renews off the response path, with the bump.
    expect(await bumpedBy(async () => expect((await verify("av-nobody")).status).toBe(403))).toEqual([]);
    expect(await bumpedBy(async () => expect((await verify("av-use")).status).toBe(200))).toEqual([door.id]);
  });

  it("request filed: nothing; approved: the items of the granted skill", async () => {
    let requestId = "";
    const token = await member("av-2", MS);
    expect(
      await bumpedBy(async () => {
        const res = await ok(callJson("POST", "/api/v1/skills/requests", { token, body: { skill_id: s2.id } }), 201);
        requestId = (res as { id: string }).id;
      }),
    ).toEqual([]);
    expect(
      await bumpedBy(() =>
        ok(
          callJson("PUT", `/api/v1/skills/requests/${requestId}`, { token: adminToken, body: { status: "approved" } }),
        ),
      ),
    ).toEqual(sorted(b, c));
  });

  it("auto-approval: the items of the granted skill", async () => {
    const auto = envWith({ SKILL_REQUEST_AUTO_APPROVE: "true" });
    const token = await member("av-3", MS);
    expect(
      await bumpedBy(() =>
        ok(
          callJson("POST", "/api/v1/skills/requests", {
            token,
            body: { skill_id: s3.id },
            env: auto,
          }),
          201,
        ),
      ),
    ).toEqual(sorted(d));
  });

  it("expiry (hourly cron): the items linked to the expired certifications' skills", async () => {
    await seedCertification({
      user_id: "av-4",
      skill_id: s2.id,
      makerspace_id: MS,
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    });
    const deps = buildDeps(env, createExecutionContext(), "test-av-expiry");
    expect(await bumpedBy(() => expireCertifications(deps))).toEqual(sorted(b, c));
    expect(await bumpedBy(() => expireCertifications(deps))).toEqual([]);
  });

  it("badge registered and removed: the items of the member's certified skills, in its makerspace", async () => {
    let badge: BadgeBody | undefined;
    expect(
      await bumpedBy(async () => {
        badge = await registerBadge(randomUid(), "av-badge", MS);
      }),
    ).toEqual(sorted(a, b, d));
    // The same user's badge in another makerspace touches only that makerspace's lists.
    expect(await bumpedBy(() => registerBadge(randomUid(), "av-badge", OTHER))).toEqual([]);
    // A member holding nothing appears on no list.
    expect(await bumpedBy(() => registerBadge(randomUid(), "av-nobody", MS))).toEqual([]);
    expect(
      await bumpedBy(() => ok(callJson("DELETE", `/api/v1/badges/${badge?.id}`, { token: adminToken }), 204)),
    ).toEqual(sorted(a, b, d));
  });

  it("skill links: a new skill's items; an update's items losing and gaining the link", async () => {
    let s5: SkillFixture | undefined;
    expect(
      await bumpedBy(async () => {
        s5 = await makeSkill({ makerspace_id: MS, equipment_ids: [unlinked.id] });
      }),
    ).toEqual(sorted(unlinked));
    expect(
      await bumpedBy(() =>
        ok(callJson("PUT", `/api/v1/skills/${s5?.id}`, { token: adminToken, body: { equipment_ids: [c.id] } })),
      ),
    ).toEqual(sorted(unlinked, c));
    // Renaming, archiving or new prerequisites leave every list as it was.
    expect(
      await bumpedBy(() =>
        ok(
          callJson("PUT", `/api/v1/skills/${s5?.id}`, {
            token: adminToken,
            body: { name: "AV renamed", status: "archived", prerequisite_ids: [s1.id] },
          }),
        ),
      ),
    ).toEqual([]);
  });

  it("equipment status: that item only; other edits and new items move nothing", async () => {
    expect(
      await bumpedBy(() =>
        ok(callJson("PUT", `/api/v1/equipment/${a.id}`, { token: adminToken, body: { status: "maintenance" } })),
      ),
    ).toEqual(sorted(a));
    expect(
      await bumpedBy(() =>
        ok(callJson("PUT", `/api/v1/equipment/${a.id}`, { token: adminToken, body: { location: "Room Z" } })),
      ),
    ).toEqual([]);
    expect(await bumpedBy(() => makeEquipment({ makerspace_id: MS }))).toEqual([]);
    expect(await bumpedBy(() => registerDevice({ makerspace_id: MS }))).toEqual([]);
  });

  it("every item has a version from the start, reported by the heartbeat and the list alike", async () => {
    const fresh = await makeEquipment({ makerspace_id: MS });
    const { device, token } = await registerDevice({ makerspace_id: MS, kind: "kiosk" });
    const hb = await callJson<{ allowlist_versions: Record<string, string> }>(
      "POST",
      `/api/v1/devices/${device.id}/heartbeat`,
      { token },
    );
    const stored = await counters();
    const expected = Object.fromEntries(
      [...stored].filter(([id]) => id !== elsewhere.id).map(([id, v]) => [id, `v${v}-01`]),
    );
    expect(hb.body.allowlist_versions).toEqual(expected);
    expect(hb.body.allowlist_versions[fresh.id]).toBe("v0-01");
    for (const item of [fresh, b]) {
      const list = await callJson<{ allowlist: { version: string } }>(
        "GET",
        `/api/v1/skills/access/equipment/${item.id}/allowlist`,
        { token },
      );
      expect(list.body.allowlist.version).toBe(hb.body.allowlist_versions[item.id]);
      expect(list.headers.get("etag")).toBe(`"${hb.body.allowlist_versions[item.id]}"`);
    }
  });

  it("the emergency override and enforcement are part of every served version", async () => {
    const { device, token } = await registerDevice({ makerspace_id: MS, equipment_ids: [b.id] });
    const served = async (vars: Parameters<typeof envWith>[0]) => {
      const res = await callJson<{ allowlist_versions: Record<string, string> }>(
        "POST",
        `/api/v1/devices/${device.id}/heartbeat`,
        { token, env: envWith(vars) },
      );
      return res.body.allowlist_versions[b.id];
    };
    const n = (await counters()).get(b.id);
    expect(await served({})).toBe(`v${n}-01`);
    expect(await served({ EQUIPMENT_EMERGENCY_OVERRIDE: "true" })).toBe(`v${n}-11`);
    expect(await served({ EQUIPMENT_SKILL_ENFORCEMENT: "false" })).toBe(`v${n}-00`);
    const list = await callJson<{ allowlist: { version: string; open: boolean } }>(
      "GET",
      `/api/v1/skills/access/equipment/${b.id}/allowlist`,
      { token, env: envWith({ EQUIPMENT_EMERGENCY_OVERRIDE: "true" }) },
    );
    expect(list.body.allowlist).toMatchObject({ version: `v${n}-11`, open: true });
  });

  it("a list is signed once per version and rebuilt at a bump or past half its TTL", async () => {
    const { token } = await registerDevice({ makerspace_id: MS, equipment_ids: [d.id] });
    const path = `/api/v1/skills/access/equipment/${d.id}/allowlist`;
    type Signed = { jws: string; allowlist: { version: string; generated_at: string; entries: { user_id: string }[] } };
    const short = envWith({ ALLOWLIST_TTL_SECONDS: "2" });
    const first = await callJson<Signed>("GET", path, { token, env: short });
    const again = await callJson<Signed>("GET", path, { token, env: short });
    expect(again.body).toEqual(first.body);
    // Past half of the 2 s TTL the cached list is no longer handed out.
    await new Promise((r) => setTimeout(r, 1100));
    const later = await callJson<Signed>("GET", path, { token, env: short });
    expect(later.body.allowlist.version).toBe(first.body.allowlist.version);
    expect(later.body.allowlist.generated_at).not.toBe(first.body.allowlist.generated_at);
    // A grant bumps the version: the next fetch is a new list with the new member.
    await ok(grant("av-late", s3), 201);
    const changed = await callJson<Signed>("GET", path, { token });
    expect(changed.body.allowlist.version).not.toBe(first.body.allowlist.version);
    expect(changed.body.allowlist.entries.map((e) => e.user_id)).toContain("av-late");
  });
});
