import { env } from "cloudflare:workers";
import { generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { expectError, expectUnauthorized } from "../helpers/assertions";
import { callJson, envWith } from "../helpers/http";
import { token } from "../helpers/tokens";

const PATH = "/api/v1/skills";
const encoder = new TextEncoder();
const now = () => Math.floor(Date.now() / 1000);

function b64url(value: unknown): string {
  const bytes = encoder.encode(JSON.stringify(value));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Signs exactly these claims (nothing added), for tokens that lack a required claim. */
function signClaims(claims: Record<string, unknown>, alg = "HS256", secret = env.JWT_SECRET_KEY): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(encoder.encode(secret));
}

const validClaims = () => ({ sub: "admin-1", role: "makerspace_admin", makerspace_id: "ms-1", exp: now() + 600 });

function get(bearer: string | undefined, headers: Record<string, string> = {}, callEnv?: Env) {
  return callJson("GET", PATH, {
    headers: bearer === undefined ? headers : { ...headers, authorization: bearer },
    ...(callEnv ? { env: callEnv } : {}),
  });
}

describe("401 unauthorized (with WWW-Authenticate: Bearer)", () => {
  it("no Authorization header", async () => {
    expectUnauthorized(await get(undefined));
  });

  it("garbage tokens", async () => {
    for (const bad of ["Bearer abc", "Bearer a.b.c", "Bearer ...", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"]) {
      expectUnauthorized(await get(bad));
    }
  });

  it("a bad signature (another secret)", async () => {
    expectUnauthorized(await get(`Bearer ${await token({ secret: "some-other-secret-0123456789abcdef" })}`));
  });

  it("a token verified (and remembered) under one secret is refused after the secret changes", async () => {
    const t = await token();
    expect((await get(`Bearer ${t}`)).status).toBe(200);
    const rotated = envWith({ JWT_SECRET_KEY: "a-rotated-secret-0123456789abcdef" });
    const res = await callJson("GET", "/api/v1/skills", { headers: { authorization: `Bearer ${t}` }, env: rotated });
    expectUnauthorized(res);
  });

  it("a tampered payload", async () => {
    const [h, , s] = (await token({ role: "member" })).split(".");
    const forged = `${h}.${b64url({ ...validClaims(), role: "super_admin" })}.${s}`;
    expectUnauthorized(await get(`Bearer ${forged}`));
  });

  it("alg: none (unsigned) tokens", async () => {
    const payload = b64url({ ...validClaims(), role: "super_admin" });
    for (const header of [{ alg: "none" }, { alg: "none", typ: "JWT" }, { alg: "None" }, { alg: "NONE" }]) {
      expectUnauthorized(await get(`Bearer ${b64url(header)}.${payload}.`));
    }
  });

  it("another HMAC algorithm than the configured one (HS512, HS384)", async () => {
    expectUnauthorized(await get(`Bearer ${await token({ alg: "HS512" })}`));
    expectUnauthorized(await get(`Bearer ${await token({ alg: "HS384" })}`));
  });

  it("asymmetric tokens (RS256, ES256), even with valid claims", async () => {
    for (const alg of ["RS256", "ES256"]) {
      const { privateKey } = await generateKeyPair(alg);
      const jwt = await new SignJWT(validClaims()).setProtectedHeader({ alg }).sign(privateKey);
      expectUnauthorized(await get(`Bearer ${jwt}`));
    }
  });

  it("an expired token", async () => {
    const res = await get(`Bearer ${await token({ expiresIn: -60 })}`);
    expectUnauthorized(res);
    expect(res.body).toMatchObject({ detail: "Token has expired" });
  });

  it("a token not valid yet (nbf in the future)", async () => {
    expectUnauthorized(await get(`Bearer ${await signClaims({ ...validClaims(), nbf: now() + 3600 })}`));
  });

  it.each([
    ["exp", "missing exp"],
    ["sub", "missing sub"],
    ["role", "missing role"],
  ])("a token without %s (%s)", async (claim) => {
    const claims: Record<string, unknown> = validClaims();
    delete claims[claim];
    expectUnauthorized(await get(`Bearer ${await signClaims(claims)}`));
  });

  it("a non-numeric exp", async () => {
    expectUnauthorized(await get(`Bearer ${await signClaims({ ...validClaims(), exp: "tomorrow" })}`));
  });

  it.each(["makerspace_admin", "member", "device"])("a %s token without makerspace_id", async (role) => {
    const claims: Record<string, unknown> = { ...validClaims(), role };
    delete claims.makerspace_id;
    expectUnauthorized(await get(`Bearer ${await signClaims(claims)}`));
  });

  it("malformed Authorization headers", async () => {
    const good = await token();
    for (const header of [
      "Basic dXNlcjpwYXNzd29yZA==",
      "Bearer",
      "Bearer ",
      good,
      `Token ${good}`,
      `Bearer ${good} extra`,
      `Bearer${good}`,
    ]) {
      expectUnauthorized(await get(header));
    }
  });

  it("a token in the query string is not accepted", async () => {
    expectUnauthorized(await callJson("GET", `${PATH}?access_token=${await token()}`));
  });
});

describe("valid tokens", () => {
  it("a well-formed token is accepted", async () => {
    const res = await get(`Bearer ${await token()}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("www-authenticate")).toBeNull();
  });

  it("super_admin needs no makerspace_id", async () => {
    const claims: Record<string, unknown> = { ...validClaims(), role: "super_admin" };
    delete claims.makerspace_id;
    expect((await get(`Bearer ${await signClaims(claims)}`)).status).toBe(200);
  });

  it("an unknown role is 403 forbidden, not 401", async () => {
    const res = await get(`Bearer ${await token({ role: "janitor" })}`);
    expectError(res, 403, "forbidden");
    expect(res.headers.get("www-authenticate")).toBeNull();
  });

  it("iss/aud are not checked when JWT_ISSUER/JWT_AUDIENCE are unset", async () => {
    const jwt = await signClaims({ ...validClaims(), iss: "anyone", aud: "anything" });
    expect((await get(`Bearer ${jwt}`)).status).toBe(200);
  });

  it("JWT_ALGORITHM=HS512 accepts HS512 and rejects HS256", async () => {
    const hs512 = envWith({ JWT_ALGORITHM: "HS512" });
    expect((await get(`Bearer ${await token({ alg: "HS512" })}`, {}, hs512)).status).toBe(200);
    expectUnauthorized(await get(`Bearer ${await token({ alg: "HS256" })}`, {}, hs512));
  });
});

describe("JWT_ISSUER / JWT_AUDIENCE set", () => {
  const ISS = "https://id.makrcave.test";
  const AUD = "makrcave-skills";
  const strict = envWith({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD });

  it("matching iss and aud are accepted (aud as a string or in an array)", async () => {
    expect((await get(`Bearer ${await signClaims({ ...validClaims(), iss: ISS, aud: AUD })}`, {}, strict)).status).toBe(
      200,
    );
    const listed = await signClaims({ ...validClaims(), iss: ISS, aud: ["other", AUD] });
    expect((await get(`Bearer ${listed}`, {}, strict)).status).toBe(200);
  });

  it.each([
    ["a wrong iss", { iss: "https://evil.test", aud: AUD }],
    ["a wrong aud", { iss: ISS, aud: "another-service" }],
    ["no iss", { aud: AUD }],
    ["no aud", { iss: ISS }],
  ])("%s is rejected", async (_label, extra) => {
    expectUnauthorized(await get(`Bearer ${await signClaims({ ...validClaims(), ...extra })}`, {}, strict));
  });
});
