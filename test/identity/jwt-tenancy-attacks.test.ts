import { beforeAll, describe, expect, it } from "vitest";
import { expectError, expectUnauthorized } from "../helpers/assertions";
import { createRequest, grant, type RequestBody, type UserSkillBody, uniqueUser } from "../helpers/certifications";
import { type BadgeBody, type DeviceBody, randomUid, registerBadge, registerDevice } from "../helpers/devices";
import { type EquipmentFixture, makeEquipment, makeSkill, type SkillFixture } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { shardDb } from "../helpers/shards";
import { admin, device, member, token } from "../helpers/tokens";

// The attacker holds valid ms-1 tokens; everything below belongs to ms-2.
interface Victim {
  skill: SkillFixture;
  eq: EquipmentFixture;
  userSkill: UserSkillBody;
  request: RequestBody;
  device: DeviceBody;
  badge: BadgeBody;
  badgeUid: string;
  user: string;
}
let v: Victim;

beforeAll(async () => {
  const eq = await makeEquipment({ makerspace_id: "ms-2" });
  const skill = await makeSkill({ makerspace_id: "ms-2", equipment_ids: [eq.id] });
  const other = await makeSkill({ makerspace_id: "ms-2" });
  const user = uniqueUser("victim");
  const t2 = await admin("ms-2");
  const userSkill = (await grant({ user_id: user, skill_id: skill.id }, { token: t2 })).body;
  const request = (await createRequest({ user_id: user, skill_id: other.id }, { token: t2 })).body;
  const { device: dev } = await registerDevice({ makerspace_id: "ms-2", equipment_ids: [eq.id] });
  const badgeUid = randomUid();
  const badge = await registerBadge(badgeUid, user, "ms-2");
  v = { skill, eq, userSkill, request, device: dev, badge, badgeUid, user };
});

type Attacker = "makerspace_admin" | "member" | "device";
const attackers: Record<Attacker, () => Promise<string>> = {
  makerspace_admin: () => admin("ms-1", "admin-1"),
  member: () => member("attacker-1", "ms-1"),
  device: () => device("device-attacker", "ms-1", "kiosk"),
};

interface Probe {
  name: string;
  method: string;
  path: (x: Victim) => string;
  body?: (x: Victim) => unknown;
  as: Attacker[];
  /** What an ms-1 caller must get: 404 for ids (existence not leaked), 403 for filters. */
  expect: [number, string];
}

const ALL: Attacker[] = ["makerspace_admin", "member", "device"];
const ADMIN: Attacker[] = ["makerspace_admin"];

/** One row per resource type and operation: the contract's tenancy rule (docs/API.md, "Tenancy"). */
const PROBES: Probe[] = [
  {
    name: "GET skill",
    method: "GET",
    path: (x) => `/api/v1/skills/${x.skill.id}`,
    as: ALL,
    expect: [404, "skill_not_found"],
  },
  {
    name: "PUT skill",
    method: "PUT",
    path: (x) => `/api/v1/skills/${x.skill.id}`,
    body: () => ({ status: "archived" }),
    as: ADMIN,
    expect: [404, "skill_not_found"],
  },
  {
    name: "GET equipment",
    method: "GET",
    path: (x) => `/api/v1/equipment/${x.eq.id}`,
    as: ALL,
    expect: [404, "equipment_not_found"],
  },
  {
    name: "PUT equipment",
    method: "PUT",
    path: (x) => `/api/v1/equipment/${x.eq.id}`,
    body: () => ({ status: "retired" }),
    as: ADMIN,
    expect: [404, "equipment_not_found"],
  },
  {
    name: "GET user-skill",
    method: "GET",
    path: (x) => `/api/v1/skills/user-skills/${x.userSkill.id}`,
    as: ["makerspace_admin", "device"],
    expect: [404, "user_skill_not_found"],
  },
  {
    name: "revoke user-skill",
    method: "POST",
    path: (x) => `/api/v1/skills/user-skills/${x.userSkill.id}/revoke?reason=x`,
    as: ADMIN,
    expect: [404, "user_skill_not_found"],
  },
  {
    name: "grant a foreign skill",
    method: "POST",
    path: () => "/api/v1/skills/user-skills",
    body: (x) => ({ user_id: "user-1", skill_id: x.skill.id }),
    as: ADMIN,
    expect: [404, "skill_not_found"],
  },
  {
    name: "GET request",
    method: "GET",
    path: (x) => `/api/v1/skills/requests/${x.request.id}`,
    as: ["makerspace_admin", "device"],
    expect: [404, "request_not_found"],
  },
  {
    name: "review request",
    method: "PUT",
    path: (x) => `/api/v1/skills/requests/${x.request.id}`,
    body: () => ({ status: "approved" }),
    as: ADMIN,
    expect: [404, "request_not_found"],
  },
  {
    name: "request a foreign skill",
    method: "POST",
    path: () => "/api/v1/skills/requests",
    body: (x) => ({ skill_id: x.skill.id }),
    as: ["makerspace_admin", "member"],
    expect: [404, "skill_not_found"],
  },
  {
    name: "access check",
    method: "GET",
    path: (x) => `/api/v1/skills/access/equipment/${x.eq.id}?user_id=${x.user}`,
    as: ["makerspace_admin", "device"],
    expect: [404, "equipment_not_found"],
  },
  {
    name: "verify",
    method: "POST",
    path: (x) => `/api/v1/skills/access/equipment/${x.eq.id}/verify`,
    body: (x) => ({ user_id: x.user }),
    as: ["makerspace_admin", "device"],
    expect: [404, "equipment_not_found"],
  },
  {
    name: "allow-list",
    method: "GET",
    path: (x) => `/api/v1/skills/access/equipment/${x.eq.id}/allowlist`,
    as: ADMIN,
    expect: [404, "equipment_not_found"],
  },
  {
    name: "GET device",
    method: "GET",
    path: (x) => `/api/v1/devices/${x.device.id}`,
    as: ADMIN,
    expect: [404, "device_not_found"],
  },
  {
    name: "rotate device token",
    method: "POST",
    path: (x) => `/api/v1/devices/${x.device.id}/rotate-token`,
    as: ADMIN,
    expect: [404, "device_not_found"],
  },
  {
    name: "revoke device",
    method: "POST",
    path: (x) => `/api/v1/devices/${x.device.id}/revoke`,
    as: ADMIN,
    expect: [404, "device_not_found"],
  },
  {
    name: "heartbeat as another device",
    method: "POST",
    path: (x) => `/api/v1/devices/${x.device.id}/heartbeat`,
    body: () => ({}),
    as: ["device"],
    expect: [403, "forbidden"],
  },
  {
    name: "DELETE badge",
    method: "DELETE",
    path: (x) => `/api/v1/badges/${x.badge.id}`,
    as: ADMIN,
    expect: [404, "badge_not_found"],
  },
  {
    name: "resolve a foreign badge",
    method: "POST",
    path: () => "/api/v1/badges/resolve",
    body: (x) => ({ badge_uid: x.badgeUid }),
    as: ["makerspace_admin", "device"],
    expect: [404, "badge_not_found"],
  },
  ...(
    [
      ["skills", "/api/v1/skills"],
      ["equipment", "/api/v1/equipment"],
      ["user-skills", "/api/v1/skills/user-skills"],
      ["requests", "/api/v1/skills/requests"],
      ["bulk access", "/api/v1/skills/access/equipment"],
      ["requirements", "/api/v1/skills/equipment-requirements"],
      ["audit logs", "/api/v1/skills/audit-logs"],
      ["devices", "/api/v1/devices"],
      ["badges", "/api/v1/badges"],
    ] as const
  ).map(
    ([name, base]): Probe => ({
      name: `${name} filtered to ms-2`,
      method: "GET",
      path: () => `${base}?makerspace_id=ms-2`,
      as: ADMIN,
      expect: [403, "forbidden"],
    }),
  ),
  {
    name: "create a device in ms-2",
    method: "POST",
    path: () => "/api/v1/devices",
    body: () => ({ name: "Rogue", kind: "door", makerspace_id: "ms-2" }),
    as: ADMIN,
    expect: [403, "forbidden"],
  },
  {
    name: "register a badge in ms-2",
    method: "POST",
    path: () => "/api/v1/badges",
    body: () => ({ badge_uid: randomUid(), user_id: "user-1", makerspace_id: "ms-2" }),
    as: ADMIN,
    expect: [403, "forbidden"],
  },
];

const CASES = PROBES.flatMap((p) => p.as.map((role) => [p.name, role, p] as const));

describe("an ms-1 token against ms-2's resources", () => {
  it.each(CASES)("%s as %s", async (_name, role, probe) => {
    const res = await callJson(probe.method, probe.path(v), {
      token: await attackers[role](),
      ...(probe.body ? { body: probe.body(v) } : {}),
    });
    expectError(res, probe.expect[0], probe.expect[1]);
  });

  it("unfiltered lists never show ms-2 rows", async () => {
    const t = await admin("ms-1");
    for (const path of [
      "/api/v1/skills/user-skills?limit=200",
      "/api/v1/skills/requests?limit=200",
      "/api/v1/skills/audit-logs?limit=200",
      "/api/v1/devices",
      `/api/v1/badges?user_id=${v.user}`,
      "/api/v1/skills/equipment-requirements",
    ]) {
      const res = await callJson("GET", path, { token: t });
      expect(res.status, path).toBe(200);
      const text = JSON.stringify(res.body);
      for (const id of [v.userSkill.id, v.request.id, v.device.id, v.badge.id, v.eq.id, v.skill.id]) {
        expect(text, path).not.toContain(id);
      }
    }
  });

  it("the victim's state is untouched afterwards", async () => {
    const t2 = await admin("ms-2");
    const us = await callJson<UserSkillBody>("GET", `/api/v1/skills/user-skills/${v.userSkill.id}`, { token: t2 });
    expect(us.body.status).toBe("certified");
    const req = await callJson<RequestBody>("GET", `/api/v1/skills/requests/${v.request.id}`, { token: t2 });
    expect(req.body.status).toBe("pending");
    const dev = await callJson<DeviceBody>("GET", `/api/v1/devices/${v.device.id}`, { token: t2 });
    expect(dev.body.status).toBe("active");
    expect((await callJson("GET", `/api/v1/skills/${v.skill.id}`, { token: t2 })).body).toMatchObject({
      status: "active",
    });
    expect((await callJson("GET", `/api/v1/equipment/${v.eq.id}`, { token: t2 })).body).toMatchObject({
      status: "available",
    });
    const badges = await (await shardDb("ms-2"))
      .prepare("select count(*) as n from badges where id = ?")
      .bind(v.badge.id)
      .first<{ n: number }>();
    expect(badges?.n).toBe(1);
    const devices = await (await shardDb("ms-2"))
      .prepare("select count(*) as n from devices where makerspace_id = 'ms-2'")
      .first<{
        n: number;
      }>();
    expect(devices?.n).toBe(1);
  });
});

function b64urlJson(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
}

describe("a genuine token with one claim changed and its original signature", () => {
  it.each([
    ["role member → makerspace_admin", { role: "makerspace_admin" }],
    ["role member → device", { role: "device" }],
    ["makerspace ms-1 → ms-2", { makerspace_id: "ms-2" }],
    ["makerspace removed (as a super_admin would have)", { makerspace_id: undefined, role: "super_admin" }],
    ["sub → another member", { sub: "user-2" }],
    ["exp pushed a year out", { exp: Math.floor(Date.now() / 1000) + 31_536_000 }],
  ])("%s is rejected with 401", async (_label, change) => {
    const [h, p, s] = (await token({ role: "member", sub: "user-1", makerspace: "ms-1" })).split(".") as [
      string,
      string,
      string,
    ];
    const forged = `${h}.${b64urlJson({ ...decodePart(p), ...change })}.${s}`;
    const res = await callJson("GET", "/api/v1/skills/user-skills?user_id=user-2", {
      headers: { authorization: `Bearer ${forged}` },
    });
    expectUnauthorized(res);
  });

  it("the header's alg changed to HS512 with the HS256 signature is rejected", async () => {
    const [h, p, s] = (await token()).split(".") as [string, string, string];
    const forged = `${b64urlJson({ ...decodePart(h), alg: "HS512" })}.${p}.${s}`;
    expectUnauthorized(await callJson("GET", "/api/v1/skills", { headers: { authorization: `Bearer ${forged}` } }));
  });

  it("a token not yet valid (nbf an hour ahead), even with every other claim right, is rejected", async () => {
    const res = await callJson("GET", "/api/v1/skills", {
      token: await token({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }),
    });
    expectUnauthorized(res);
  });
});
