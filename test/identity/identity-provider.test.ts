import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { JWKS_MAX_AGE_MS, JWKS_REFRESH_COOLDOWN_MS } from "../../src/identity/provider-keys";
import { expectError, expectUnauthorized } from "../helpers/assertions";
import { callJson, envWith } from "../helpers/http";
import { TestIdentityProvider } from "../helpers/identity-provider";
import { admin, token } from "../helpers/tokens";

/**
 * Tokens of an identity provider (JWT_JWKS_URL), verified against a real JWKS endpoint on
 * 127.0.0.1 serving keys generated here: algorithms, claim names, key rollover, a provider that
 * is down, and the per-isolate caches (keys and verified tokens) staying correct.
 */
const SKILLS = "/api/v1/skills";
const ADMIN_ONLY = "/api/v1/devices";
const memberClaims = { role: "member", makerspace_id: "ms-1" };
const adminClaims = { role: "makerspace_admin", makerspace_id: "ms-1" };

function providerEnv(idp: TestIdentityProvider, vars: Partial<Record<keyof Env, string>> = {}): Env {
  return envWith({ JWT_JWKS_URL: idp.jwksUrl, JWT_AUDIENCE: "", ...vars });
}

const get = (path: string, jwt: string, env: Env) => callJson("GET", path, { token: jwt, env });

/** Moves this isolate's clock (Date only) forward; tokens are minted with an hour to live. */
function advance(ms: number): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

let warn: MockInstance<typeof console.warn>;
beforeEach(() => {
  // A provider that cannot be reached is logged by design; keep the output readable.
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("tokens from an identity provider (JWT_JWKS_URL)", () => {
  it("accepts RS256, ES256 and EdDSA tokens whose kid is in the JWKS", async () => {
    const idp = new TestIdentityProvider();
    const kids = [await idp.addKey("RS256"), await idp.addKey("ES256"), await idp.addKey("EdDSA")];
    const env = providerEnv(idp);
    for (const kid of kids) {
      expect((await get(SKILLS, await idp.sign(kid, memberClaims), env)).status, kid).toBe(200);
      expect((await get(ADMIN_ONLY, await idp.sign(kid, adminClaims), env)).status, kid).toBe(200);
    }
    // The whole set was fetched once for all of them.
    expect(await idp.fetches()).toBe(1);
  });

  it("keeps HS256 tokens working beside the provider", async () => {
    const idp = new TestIdentityProvider();
    await idp.addKey("ES256");
    const env = providerEnv(idp);
    expect((await get(SKILLS, await token({ role: "member" }), env)).status).toBe(200);
    expect((await get(ADMIN_ONLY, await admin(), env)).status).toBe(200);
  });

  it("reads role and makerspace from JWT_ROLE_CLAIM and JWT_MAKERSPACE_CLAIM", async () => {
    const idp = new TestIdentityProvider();
    const kid = await idp.addKey("RS256");
    const env = providerEnv(idp, {
      JWT_ROLE_CLAIM: "https://makrcave.example/role",
      JWT_MAKERSPACE_CLAIM: "org_id",
    });
    const mapped = await idp.sign(kid, {
      "https://makrcave.example/role": "makerspace_admin",
      org_id: "ms-2",
      // The default names mean nothing under this configuration.
      role: "super_admin",
      makerspace_id: "ms-1",
    });
    expect((await get(`${ADMIN_ONLY}?makerspace_id=ms-2`, mapped, env)).status).toBe(200);
    expectError(await get(`${ADMIN_ONLY}?makerspace_id=ms-1`, mapped, env), 403, "forbidden");
    // Without the configured role claim the token is incomplete; an unknown role is 403.
    expectUnauthorized(await get(SKILLS, await idp.sign(kid, { role: "member", org_id: "ms-2" }), env));
    const janitor = await idp.sign(kid, { "https://makrcave.example/role": "janitor", org_id: "ms-2" });
    expectError(await get(SKILLS, janitor, env), 403, "forbidden");
  });

  it("refuses tokens it cannot tie to a published key, and the usual bad tokens (401)", async () => {
    const idp = new TestIdentityProvider();
    const listed = await idp.addKey("RS256");
    const unlisted = await idp.addKey("ES256", { unlisted: true });
    const rs384 = await idp.addKey("RS384");
    const env = providerEnv(idp, { JWT_ISSUER: "https://id.makrcave.test", JWT_AUDIENCE: "skills" });
    const good = { ...memberClaims, iss: "https://id.makrcave.test", aud: "skills" };
    expect((await get(SKILLS, await idp.sign(listed, good), env)).status).toBe(200);

    const forged = await idp.sign(unlisted, good, { header: { alg: "ES256", kid: listed } });
    const refused = [
      await idp.sign(unlisted, good),
      forged,
      await idp.sign(listed, good, { header: { kid: "no-such-kid" } }),
      await idp.sign(rs384, good),
      await idp.sign(listed, { ...good, iss: "https://evil.test" }),
      await idp.sign(listed, { ...good, aud: "another-app" }),
      await idp.sign(listed, good, { expiresIn: -60 }),
      await idp.sign(listed, { ...good, makerspace_id: undefined }),
      await idp.sign(listed, { ...good, role: "device" }),
    ];
    for (const [i, jwt] of refused.entries()) {
      const res = await get(SKILLS, jwt, env);
      expect(res.status, `refused[${i}]`).toBe(401);
      expectUnauthorized(res);
    }
  });

  it("refuses asymmetric tokens once JWT_JWKS_URL is unset, even ones it verified before", async () => {
    const idp = new TestIdentityProvider();
    const kid = await idp.addKey("EdDSA");
    const jwt = await idp.sign(kid, memberClaims);
    expect((await get(SKILLS, jwt, providerEnv(idp))).status).toBe(200);
    expectUnauthorized(await get(SKILLS, jwt, envWith({ JWT_JWKS_URL: "" })));
    const other = new TestIdentityProvider();
    await other.addKey("EdDSA");
    expectUnauthorized(await get(SKILLS, jwt, providerEnv(other)));
  });

  it("picks up a new kid (key rollover), fetching at most once a minute", async () => {
    const idp = new TestIdentityProvider();
    const first = await idp.addKey("RS256");
    const env = providerEnv(idp);
    expect((await get(SKILLS, await idp.sign(first, memberClaims), env)).status).toBe(200);
    expect(await idp.fetches()).toBe(1);

    const second = await idp.addKey("RS256");
    // Within a minute of the last fetch, an unknown kid is refused without asking the provider.
    expectUnauthorized(await get(SKILLS, await idp.sign(second, memberClaims), env));
    expectUnauthorized(await get(SKILLS, await idp.sign(second, memberClaims), env));
    expect(await idp.fetches()).toBe(1);

    advance(JWKS_REFRESH_COOLDOWN_MS + 1_000);
    expect((await get(SKILLS, await idp.sign(second, memberClaims), env)).status).toBe(200);
    expect((await get(SKILLS, await idp.sign(first, memberClaims), env)).status).toBe(200);
    expect(await idp.fetches()).toBe(2);
    // A flood of made-up kids right after costs no fetch.
    for (let i = 0; i < 5; i++) {
      const made = await idp.sign(first, memberClaims, { header: { kid: `made-up-${i}` } });
      expectUnauthorized(await get(SKILLS, made, env));
    }
    expect(await idp.fetches()).toBe(2);
  });

  it("stops accepting a withdrawn key once its keys are refetched, remembered tokens included", async () => {
    const idp = new TestIdentityProvider();
    const old = await idp.addKey("ES256");
    const env = providerEnv(idp);
    const remembered = await idp.sign(old, memberClaims);
    expect((await get(SKILLS, remembered, env)).status).toBe(200);
    expect((await get(SKILLS, remembered, env)).status).toBe(200);

    const next = await idp.addKey("ES256");
    await idp.withdraw(old);
    advance(JWKS_MAX_AGE_MS + 1_000);
    expectUnauthorized(await get(SKILLS, remembered, env));
    expectUnauthorized(await get(SKILLS, await idp.sign(old, memberClaims), env));
    expect((await get(SKILLS, await idp.sign(next, memberClaims), env)).status).toBe(200);
    expect(await idp.fetches()).toBe(2);
  });

  it("keeps using the keys it holds while the provider is down; unknown kids stay 401", async () => {
    const idp = new TestIdentityProvider();
    const held = await idp.addKey("RS256");
    const env = providerEnv(idp);
    expect((await get(SKILLS, await idp.sign(held, memberClaims), env)).status).toBe(200);
    await idp.down();
    const rolled = await idp.addKey("RS256", { publish: false });

    advance(JWKS_MAX_AGE_MS + 1_000);
    // Old keys: a refetch is tried (and fails), the held key still verifies.
    expect((await get(SKILLS, await idp.sign(held, memberClaims), env)).status).toBe(200);
    expect(await idp.fetches()).toBe(2);
    expect(warn.mock.calls.map((args) => String(args[0])).join("\n")).toContain("could not be fetched");
    for (let i = 0; i < 3; i++) {
      expectUnauthorized(await get(SKILLS, await idp.sign(rolled, memberClaims), env));
      expect((await get(SKILLS, await idp.sign(held, memberClaims), env)).status).toBe(200);
    }
    expect(await idp.fetches()).toBe(2);

    advance(JWKS_REFRESH_COOLDOWN_MS + 1_000);
    await idp.garble();
    expectUnauthorized(await get(SKILLS, await idp.sign(rolled, memberClaims), env));
    expect(await idp.fetches()).toBe(3);
    expect((await get(SKILLS, await idp.sign(held, memberClaims), env)).status).toBe(200);

    // Back up, with the new key: found on the next allowed fetch.
    await idp.publish();
    advance(JWKS_REFRESH_COOLDOWN_MS + 1_000);
    expect((await get(SKILLS, await idp.sign(rolled, memberClaims), env)).status).toBe(200);
  });

  it("a provider never reached is a 401, never a 500 or an open door", async () => {
    const down = new TestIdentityProvider();
    const kid = await down.addKey("ES256");
    await down.down();
    const jwt = await down.sign(kid, memberClaims);
    expectUnauthorized(await get(SKILLS, jwt, providerEnv(down)));
    expectUnauthorized(await get(SKILLS, jwt, providerEnv(down)));
    // After a failed first fetch, the next minute answers without asking again.
    expect(await down.fetches()).toBe(1);

    const garbled = new TestIdentityProvider();
    const gkid = await garbled.addKey("ES256");
    await garbled.garble();
    expectUnauthorized(await get(SKILLS, await garbled.sign(gkid, memberClaims), providerEnv(garbled)));

    // Nothing listens on port 9 of this machine: connection refused (workerd logs the failed
    // fetch as "uncaught exception" even though the service handles it).
    const nowhere = envWith({ JWT_JWKS_URL: "http://127.0.0.1:9/jwks.json" });
    expectUnauthorized(await get(SKILLS, jwt, nowhere));
    // HS256 tokens do not depend on the provider.
    expect((await get(SKILLS, await admin(), nowhere)).status).toBe(200);
  });
});
