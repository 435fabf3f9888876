import { env } from "cloudflare:workers";
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, importJWK, type JSONWebKeySet } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../helpers/assertions";
import { randomUid, registerBadge } from "../helpers/devices";
import {
  type EquipmentFixture,
  makeEquipment,
  makeSkill,
  type SkillFixture,
  seedCertification,
} from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { admin, device, member } from "../helpers/tokens";

interface Entry {
  user_id: string;
  badge_sha256: string[];
  expires_at: string | null;
}
interface Allowlist {
  equipment_id: string;
  makerspace_id: string;
  version: string;
  generated_at: string;
  valid_until: string;
  open: boolean;
  entries: Entry[];
}
type Signed = { jws: string; allowlist: Allowlist };

const listPath = (id: string) => `/api/v1/skills/access/equipment/${id}/allowlist`;
const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function fetchList(id: string, opts: { token?: string; env?: Env; headers?: Record<string, string> } = {}) {
  return callJson<Signed>("GET", listPath(id), { token: opts.token ?? (await device()), ...opts });
}

describe("offline allow-lists", () => {
  let s1: SkillFixture;
  let advanced: SkillFixture;
  let basic: SkillFixture;
  let machine: EquipmentFixture;
  let openBench: EquipmentFixture;
  let broken: EquipmentFixture;
  let retired: EquipmentFixture;
  const uidFull = randomUid();
  const uidFull2a = randomUid();
  const uidFull2b = randomUid();
  const uidExpired = randomUid();
  const population = [
    "al-full",
    "al-full2",
    "al-nullexp",
    "al-expired",
    "al-expired-status",
    "al-revoked",
    "al-pending",
    "al-missing",
    "al-prereq-only",
  ];

  beforeAll(async () => {
    machine = await makeEquipment({ name: "Allowlist CNC" });
    openBench = await makeEquipment({ name: "Allowlist bench" });
    broken = await makeEquipment({ name: "Allowlist broken", status: "maintenance" });
    retired = await makeEquipment({ name: "Allowlist retired", status: "retired" });
    basic = await makeSkill({ name: "AL Basic" });
    s1 = await makeSkill({ name: "AL Safety", equipment_ids: [machine.id, broken.id, retired.id] });
    advanced = await makeSkill({ name: "AL Advanced", prerequisite_ids: [basic.id], equipment_ids: [machine.id] });

    const seed = (
      user: string,
      skill: SkillFixture,
      extra: Parameters<typeof seedCertification>[0] extends infer T ? Partial<T> : never = {},
    ) => seedCertification({ user_id: user, skill_id: skill.id, ...extra });
    await seed("al-full", s1, { expires_at: days(30) });
    await seed("al-full", advanced, { expires_at: null });
    await seed("al-full2", s1, { expires_at: days(20) });
    await seed("al-full2", advanced, { expires_at: days(10) });
    await seed("al-nullexp", s1, { expires_at: null });
    await seed("al-nullexp", advanced, { expires_at: null });
    await seed("al-expired", s1, { expires_at: days(-1) });
    await seed("al-expired", advanced, { expires_at: days(5) });
    await seed("al-expired-status", s1, { status: "expired" });
    await seed("al-expired-status", advanced);
    await seed("al-revoked", s1, { status: "revoked" });
    await seed("al-revoked", advanced);
    await seed("al-pending", s1, { status: "pending" });
    await seed("al-pending", advanced);
    await seed("al-missing", advanced);
    // Holds the prerequisite of a required skill, not the skill itself.
    await seed("al-prereq-only", basic);
    await seed("al-prereq-only", s1);

    await registerBadge(uidFull, "al-full");
    await registerBadge(uidFull2a, "al-full2");
    await registerBadge(uidFull2b, "al-full2");
    await registerBadge(uidExpired, "al-expired");
    await registerBadge(randomUid(), "al-full", "ms-2");
  });

  it("lists exactly the users the access rule admits, with their badges and earliest expiry", async () => {
    const res = await fetchList(machine.id);
    expect(res.status).toBe(200);
    const list = res.body.allowlist;
    expect(list).toMatchObject({ equipment_id: machine.id, makerspace_id: "ms-1", open: false });
    const hash = async (uid: string) => sha256Hex(uid.replaceAll(":", "").toUpperCase());
    expect(list.entries).toEqual([
      { user_id: "al-full", badge_sha256: [await hash(uidFull)], expires_at: expect.any(String) },
      {
        user_id: "al-full2",
        badge_sha256: [await hash(uidFull2a), await hash(uidFull2b)].sort(),
        expires_at: expect.any(String),
      },
      { user_id: "al-nullexp", badge_sha256: [], expires_at: null },
    ]);
    const full = await callJson<{ expires_at: string }[]>(
      "GET",
      `/api/v1/skills/user-skills?user_id=al-full2&skill_id=${advanced.id}`,
      { token: await admin() },
    );
    expect(list.entries[1]?.expires_at).toBe(full.body[0]?.expires_at);
    expect(Date.parse(list.entries[0]?.expires_at ?? "")).toBeGreaterThan(Date.parse(days(29)));

    // The same answer as the strong check, user by user.
    const admitted: string[] = [];
    for (const user of population) {
      const check = await callJson<{ can_access: boolean }>(
        "GET",
        `/api/v1/skills/access/equipment/${machine.id}?user_id=${user}&consistency=strong`,
        { token: await device() },
      );
      if (check.body.can_access) admitted.push(user);
    }
    expect(list.entries.map((e) => e.user_id)).toEqual(admitted);
  });

  it("signs the list: the JWS verifies with the published JWKS and carries exactly the list", async () => {
    const jwks = await callJson<JSONWebKeySet>("GET", "/.well-known/jwks.json");
    expect(jwks.status).toBe(200);
    const priv = JSON.parse(env.ALLOWLIST_SIGNING_KEY) as Record<string, string>;
    expect(jwks.body).toEqual({
      keys: [{ kty: "OKP", crv: "Ed25519", x: priv.x, kid: priv.kid, alg: "EdDSA", use: "sig" }],
    });
    const res = await fetchList(machine.id);
    expect(decodeProtectedHeader(res.body.jws)).toEqual({ alg: "EdDSA", kid: priv.kid });
    const { payload } = await compactVerify(res.body.jws, createLocalJWKSet(jwks.body));
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(res.body.allowlist);
  });

  it("a tampered list does not verify", async () => {
    const res = await fetchList(machine.id);
    const [header, , signature] = res.body.jws.split(".");
    const forged = { ...res.body.allowlist, open: true };
    const body = btoa(JSON.stringify(forged)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const key = await importJWK(
      (await callJson<JSONWebKeySet>("GET", "/.well-known/jwks.json")).body.keys[0] as Record<string, string>,
      "EdDSA",
    );
    await expect(compactVerify(`${header}.${body}.${signature}`, key)).rejects.toThrow();
    // Change one character well inside the signature (the last one may carry only padding bits).
    const sig = signature as string;
    const flippedSig = `${sig.slice(0, 10)}${sig[10] === "A" ? "B" : "A"}${sig.slice(11)}`;
    await expect(compactVerify(`${header}.${res.body.jws.split(".")[1]}.${flippedSig}`, key)).rejects.toThrow();
  });

  it("valid_until is generated_at + ALLOWLIST_TTL_SECONDS", async () => {
    const res = await fetchList(machine.id);
    const l = res.body.allowlist;
    expect(Date.parse(l.valid_until) - Date.parse(l.generated_at)).toBe(900_000);
    const short = await fetchList(machine.id, { env: envWith({ ALLOWLIST_TTL_SECONDS: "60" }) });
    expect(Date.parse(short.body.allowlist.valid_until) - Date.parse(short.body.allowlist.generated_at)).toBe(60_000);
    expect(short.body.allowlist.version).toBe(l.version);
  });

  it("ETag is the version; If-None-Match with it is a 304; the version is stable and tracks content", async () => {
    const first = await fetchList(machine.id);
    const version = first.body.allowlist.version;
    expect(version).toMatch(/^v\d+-01$/);
    expect(first.headers.get("etag")).toBe(`"${version}"`);
    const second = await fetchList(machine.id);
    expect(second.body.allowlist.version).toBe(version);

    for (const inm of [`"${version}"`, `W/"${version}"`, `"other", "${version}"`]) {
      const res = await fetchList(machine.id, { headers: { "if-none-match": inm } });
      expect(res.status).toBe(304);
      expect(res.body).toBeNull();
      expect(res.headers.get("etag")).toBe(`"${version}"`);
    }
    const stale = await fetchList(machine.id, { headers: { "if-none-match": '"nope"' } });
    expect(stale.status).toBe(200);

    // A change of who may enter changes the version.
    const newcomer = "al-newcomer";
    await seedCertification({ user_id: newcomer, skill_id: s1.id });
    await seedCertification({ user_id: newcomer, skill_id: basic.id });
    const grant = await callJson("POST", "/api/v1/skills/user-skills", {
      token: await admin(),
      body: { user_id: newcomer, skill_id: advanced.id },
    });
    expect(grant.status).toBe(201);
    const changed = await fetchList(machine.id, { headers: { "if-none-match": `"${version}"` } });
    expect(changed.status).toBe(200);
    expect(changed.body.allowlist.version).not.toBe(version);
    expect(changed.body.allowlist.entries.map((e) => e.user_id)).toContain(newcomer);
  });

  it("closed lists: maintenance and retired equipment have no entries and are not open", async () => {
    for (const eq of [broken, retired]) {
      const res = await fetchList(eq.id);
      expect(res.status).toBe(200);
      expect(res.body.allowlist).toMatchObject({ equipment_id: eq.id, open: false, entries: [] });
    }
    const tmp = await makeEquipment({ name: "Allowlist toggled" });
    await callJson("PUT", `/api/v1/skills/${s1.id}`, {
      token: await admin(),
      body: { equipment_ids: [machine.id, broken.id, retired.id, tmp.id] },
    });
    const before = await fetchList(tmp.id);
    expect(before.body.allowlist.entries.length).toBeGreaterThan(0);
    await callJson("PUT", `/api/v1/equipment/${tmp.id}`, { token: await admin(), body: { status: "maintenance" } });
    const after = await fetchList(tmp.id);
    expect(after.body.allowlist).toMatchObject({ open: false, entries: [] });
    expect(after.body.allowlist.version).not.toBe(before.body.allowlist.version);
  });

  it("open lists: no linked skills, emergency override or enforcement off → open with no entries", async () => {
    const bench = await fetchList(openBench.id);
    expect(bench.body.allowlist).toMatchObject({ open: true, entries: [] });
    const override = await fetchList(machine.id, { env: envWith({ EQUIPMENT_EMERGENCY_OVERRIDE: "true" }) });
    expect(override.body.allowlist).toMatchObject({ open: true, entries: [] });
    const closed = await fetchList(machine.id);
    expect(override.body.allowlist.version).not.toBe(closed.body.allowlist.version);
    const noEnforcement = await fetchList(machine.id, { env: envWith({ EQUIPMENT_SKILL_ENFORCEMENT: "false" }) });
    expect(noEnforcement.body.allowlist).toMatchObject({ open: true, entries: [] });
    // Emergency override does not open equipment under maintenance.
    const brokenOverride = await fetchList(broken.id, { env: envWith({ EQUIPMENT_EMERGENCY_OVERRIDE: "true" }) });
    expect(brokenOverride.body.allowlist).toMatchObject({ open: false, entries: [] });
  });

  it("is for devices and admins of the equipment's makerspace only", async () => {
    expect((await fetchList(machine.id, { token: await admin() })).status).toBe(200);
    expectError(await fetchList(machine.id, { token: await member("al-full") }), 403, "forbidden");
    expectError(await fetchList(machine.id, { token: await admin("ms-2") }), 404, "equipment_not_found");
    expectError(await fetchList(machine.id, { token: await device("d-2", "ms-2") }), 404, "equipment_not_found");
    expectError(await fetchList("no-such-eq"), 404, "equipment_not_found");
    expect((await callJson("GET", listPath(machine.id))).status).toBe(401);
  });

  it("a missing or unusable signing key is a 500 config_error, for the list and the JWKS", async () => {
    const logs = captureLogs();
    const priv = JSON.parse(env.ALLOWLIST_SIGNING_KEY) as Record<string, string>;
    const other = JSON.parse(env.ALLOWLIST_SIGNING_KEY) as Record<string, string>;
    other.x = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (const key of [
      "",
      "not json",
      '{"kty":"oct","k":"abc"}',
      JSON.stringify({ ...priv, d: undefined }),
      JSON.stringify(other),
    ]) {
      const bad = envWith({ ALLOWLIST_SIGNING_KEY: key });
      expectError(await fetchList(machine.id, { env: bad }), 500, "config_error");
      expectError(await fetchList(machine.id, { env: bad, headers: { "if-none-match": '"x"' } }), 500, "config_error");
      expectError(await callJson("GET", "/.well-known/jwks.json", { env: bad }), 500, "config_error");
    }
    // Each failure is logged by the variable's name, never its value.
    expect(new Set(logs.messages())).toEqual(new Set(["invalid configuration", "request failed"]));
    const named = logs.lines.filter((l) => l.msg === "invalid configuration");
    expect(named.length).toBeGreaterThan(0);
    for (const line of named) expect(line.variables).toEqual([expect.stringMatching(/^ALLOWLIST_SIGNING_KEY: /)]);
    expect(JSON.stringify(logs.lines)).not.toContain(priv.d);
  });
});
