import { env } from "cloudflare:workers";
import {
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
} from "jose";
import { afterEach, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { expectError, expectUnauthorized } from "../helpers/assertions";
import { type DeviceBody, registerDevice } from "../helpers/devices";
import { type EquipmentFixture, makeEquipment } from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { admin, token } from "../helpers/tokens";

/**
 * Rotating the JWT secret and the allow-list signing key without downtime: the retired one is
 * still honoured (tokens) or still published (allow-list key) while nothing new uses it.
 */
const OLD_SECRET = env.JWT_SECRET_KEY;
const NEW_SECRET = "the-new-secret-0123456789abcdef0123456789";
const SKILLS = "/api/v1/skills";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("JWT_SECRET_KEY_PREVIOUS", () => {
  const rotating = envWith({ JWT_SECRET_KEY: NEW_SECRET, JWT_SECRET_KEY_PREVIOUS: OLD_SECRET });
  const rotated = envWith({ JWT_SECRET_KEY: NEW_SECRET });

  it("accepts tokens signed with the current or the previous secret, nothing else", async () => {
    const info: MockInstance<typeof console.log> = vi.spyOn(console, "log").mockImplementation(() => {});
    const old = await token({ role: "member", sub: "old-holder", secret: OLD_SECRET });
    expect((await callJson("GET", SKILLS, { token: old, env: rotating })).status).toBe(200);
    // Logged once, so an operator sees who still holds a token of the retired secret.
    const lines = info.mock.calls.map((args) => String(args[0])).filter((l) => l.includes("JWT_SECRET_KEY_PREVIOUS"));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ sub: "old-holder", role: "member" });
    expect(lines[0]).not.toContain(OLD_SECRET);

    const fresh = await token({ role: "member", secret: NEW_SECRET });
    expect((await callJson("GET", SKILLS, { token: fresh, env: rotating })).status).toBe(200);
    const stranger = await token({ role: "member", secret: "a-third-secret-0123456789abcdef" });
    expectUnauthorized(await callJson("GET", SKILLS, { token: stranger, env: rotating }));
  });

  it("refuses the previous secret's tokens once it is removed, remembered ones included", async () => {
    const old = await token({ role: "member", sub: "late-holder", secret: OLD_SECRET });
    expect((await callJson("GET", SKILLS, { token: old, env: rotating })).status).toBe(200);
    expectUnauthorized(await callJson("GET", SKILLS, { token: old, env: rotated }));
  });

  it("the previous secret still enforces exp, the algorithm and iss/aud", async () => {
    const strict = envWith({
      JWT_SECRET_KEY: NEW_SECRET,
      JWT_SECRET_KEY_PREVIOUS: OLD_SECRET,
      JWT_ISSUER: "https://id.makrcave.test",
    });
    for (const bad of [
      await token({ role: "member", secret: OLD_SECRET, expiresIn: -60 }),
      await token({ role: "member", secret: OLD_SECRET, alg: "HS512" }),
      await token({ role: "member", secret: OLD_SECRET, claims: { iss: "https://evil.test" } }),
    ]) {
      expectUnauthorized(await callJson("GET", SKILLS, { token: bad, env: strict }));
    }
  });

  it("keeps devices working through a rotation; rotate-token re-issues under the current secret", async () => {
    const { device: d, token: issuedBefore } = await registerDevice();
    const requirements = "/api/v1/skills/equipment-requirements";
    expect((await callJson("GET", requirements, { token: issuedBefore, env: rotating })).status).toBe(200);

    const reissued = await callJson<{ device: DeviceBody; token: string }>(
      "POST",
      `/api/v1/devices/${d.id}/rotate-token`,
      { token: await token({ secret: NEW_SECRET }), env: rotating },
    );
    expect(reissued.status).toBe(200);
    // Signed with the new secret alone: it works once the previous secret is gone.
    expect((await callJson("GET", requirements, { token: reissued.body.token, env: rotated })).status).toBe(200);
    expectUnauthorized(await callJson("GET", requirements, { token: issuedBefore, env: rotating }));
  });

  it("registers new devices under the current secret too", async () => {
    const res = await callJson<{ token: string }>("POST", "/api/v1/devices", {
      token: await admin(),
      body: { name: "New door", kind: "door", makerspace_id: "ms-1" },
      env: rotating,
    });
    expect(res.status).toBe(201);
    expect((await callJson("GET", SKILLS, { token: res.body.token, env: rotated })).status).toBe(200);
  });
});

describe("ALLOWLIST_SIGNING_KEY_PREVIOUS", () => {
  let laser: EquipmentFixture;
  let current: JWK;
  let retiredPrivate: JWK;
  let retiredPublic: JWK;

  beforeAll(async () => {
    laser = await makeEquipment({ name: "Rotation laser" });
    current = JSON.parse(env.ALLOWLIST_SIGNING_KEY) as JWK;
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
    const kid = "allowlist-retired";
    retiredPrivate = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA", use: "sig" };
    retiredPublic = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  });

  const published = (x: string | undefined, kid: string | undefined) => ({
    kty: "OKP",
    crv: "Ed25519",
    x,
    kid,
    alg: "EdDSA",
    use: "sig",
  });

  it("publishes both keys (a public or a private JWK) while lists are signed with the current one", async () => {
    for (const previous of [retiredPublic, retiredPrivate]) {
      const rotating = envWith({ ALLOWLIST_SIGNING_KEY_PREVIOUS: JSON.stringify(previous) });
      const jwks = await callJson<JSONWebKeySet>("GET", "/.well-known/jwks.json", { env: rotating });
      expect(jwks.status).toBe(200);
      expect(jwks.body).toEqual({
        keys: [
          published(current.x as string, current.kid as string),
          published(retiredPublic.x as string, "allowlist-retired"),
        ],
      });
      expect(JSON.stringify(jwks.body)).not.toContain(retiredPrivate.d);

      const list = await callJson<{ jws: string; allowlist: unknown }>(
        "GET",
        `/api/v1/skills/access/equipment/${laser.id}/allowlist`,
        { token: await admin(), env: rotating },
      );
      expect(list.status).toBe(200);
      expect(decodeProtectedHeader(list.body.jws)).toEqual({ alg: "EdDSA", kid: current.kid });
      const { payload } = await compactVerify(list.body.jws, createLocalJWKSet(jwks.body));
      expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(list.body.allowlist);
    }
  });

  it("a list the retired key signed still verifies against the published set", async () => {
    // The controller's view after the rotation: a list signed before it, the JWKS fetched after.
    const before = envWith({ ALLOWLIST_SIGNING_KEY: JSON.stringify(retiredPrivate) });
    const old = await callJson<{ jws: string }>("GET", `/api/v1/skills/access/equipment/${laser.id}/allowlist`, {
      token: await admin(),
      env: before,
    });
    expect(decodeProtectedHeader(old.body.jws).kid).toBe("allowlist-retired");
    const after = envWith({ ALLOWLIST_SIGNING_KEY_PREVIOUS: JSON.stringify(retiredPublic) });
    const jwks = await callJson<JSONWebKeySet>("GET", "/.well-known/jwks.json", { env: after });
    await expect(compactVerify(old.body.jws, createLocalJWKSet(jwks.body))).resolves.toBeDefined();
    // Without it, the controller would have to drop the list it holds.
    const alone = await callJson<JSONWebKeySet>("GET", "/.well-known/jwks.json");
    await expect(compactVerify(old.body.jws, createLocalJWKSet(alone.body))).rejects.toThrow();
  });

  it("the current key given again is published once", async () => {
    const same = envWith({ ALLOWLIST_SIGNING_KEY_PREVIOUS: env.ALLOWLIST_SIGNING_KEY });
    const jwks = await callJson<JSONWebKeySet>("GET", "/.well-known/jwks.json", { env: same });
    expect(jwks.body.keys).toHaveLength(1);
  });

  it("an unusable previous key, or another key under the current kid, is a 500 config_error", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    for (const previous of [
      "not json",
      "[1]",
      '{"kty":"oct","k":"abc"}',
      JSON.stringify({ ...retiredPublic, x: "too-short" }),
      JSON.stringify({ ...retiredPublic, kid: current.kid }),
    ]) {
      const bad = envWith({ ALLOWLIST_SIGNING_KEY_PREVIOUS: previous });
      expectError(await callJson("GET", "/.well-known/jwks.json", { env: bad }), 500, "config_error");
    }
  });
});
