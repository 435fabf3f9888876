import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/http/body-limits";
import { makeSkill, type SkillFixture } from "../helpers/factories";
import { type CallOptions, call, envWith } from "../helpers/http";
import { admin, member } from "../helpers/tokens";

const KIOSK_ORIGIN = "https://kiosk.makrcave.test";
const OTHER_ALLOWED = "https://frontdesk.makrcave.test";
const corsEnv = envWith({ ALLOWED_ORIGINS: `${KIOSK_ORIGIN}, ${OTHER_ALLOWED}` });

let skill: SkillFixture;
beforeAll(async () => {
  skill = await makeSkill();
});

async function send(method: string, path: string, opts: CallOptions = {}) {
  const res = await call(method, path, { env: corsEnv, ...opts });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

/** Successes and every kind of failure, each through a different exit (handler, onError, notFound). */
async function responseKinds(): Promise<[string, string, string, CallOptions, number][]> {
  const t = await admin();
  return [
    ["200 list", "GET", "/api/v1/skills", { token: t }, 200],
    [
      "201 create",
      "POST",
      "/api/v1/equipment",
      { token: t, body: { name: "Header Probe", makerspace_id: "ms-1" } },
      201,
    ],
    ["400 bad JSON", "POST", "/api/v1/skills", { token: t, rawBody: "{" }, 400],
    ["401 bad token", "GET", "/api/v1/skills", { headers: { authorization: "Bearer nope" } }, 401],
    ["403 forbidden", "POST", "/api/v1/skills", { token: await member(), body: {} }, 403],
    ["404 unknown id", "GET", "/api/v1/skills/skill_missing", { token: t }, 404],
    ["404 unknown route", "GET", "/api/v1/nowhere", { token: t }, 404],
    ["405 wrong method", "DELETE", `/api/v1/skills/${skill.id}`, { token: t }, 405],
    ["413 too large", "POST", "/api/v1/skills", { token: t, rawBody: `"${"x".repeat(MAX_BODY_BYTES + 10)}"` }, 413],
    ["422 invalid", "POST", "/api/v1/skills", { token: t, body: {} }, 422],
  ];
}

describe("CORS (ALLOWED_ORIGINS)", () => {
  it("an allowed origin is echoed back on successes and on every error", async () => {
    for (const [label, method, path, opts, status] of await responseKinds()) {
      const res = await send(method, path, { ...opts, headers: { ...opts.headers, origin: KIOSK_ORIGIN } });
      expect(res.status, label).toBe(status);
      expect(res.headers.get("access-control-allow-origin"), label).toBe(KIOSK_ORIGIN);
      expect(res.headers.get("access-control-expose-headers") ?? "", label).toContain("x-request-id");
      expect(res.headers.get("vary") ?? "", label).toMatch(/origin/i);
    }
  });

  it("each allowed origin gets its own value, never a wildcard", async () => {
    const res = await send("GET", "/api/v1/skills", { token: await admin(), headers: { origin: OTHER_ALLOWED } });
    expect(res.headers.get("access-control-allow-origin")).toBe(OTHER_ALLOWED);
  });

  it.each([
    "https://evil.example",
    "https://kiosk.makrcave.test.evil.example",
    "http://kiosk.makrcave.test",
    "null",
    "*",
  ])("origin %s gets no access-control-allow-origin", async (origin) => {
    const res = await send("GET", "/api/v1/skills", { token: await admin(), headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("no origin is allowed when ALLOWED_ORIGINS is empty (the default)", async () => {
    const res = await call("GET", "/api/v1/skills", { token: await admin(), headers: { origin: KIOSK_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("a preflight from an allowed origin is answered without a token (not 401)", async () => {
    for (const path of ["/api/v1/skills/", `/api/v1/skills/${skill.id}`, "/api/v1/skills/access/equipment"]) {
      const res = await send("OPTIONS", path, {
        headers: {
          origin: KIOSK_ORIGIN,
          "access-control-request-method": "PUT",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      expect(res.status, path).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(KIOSK_ORIGIN);
      expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,PUT,DELETE,OPTIONS");
      expect(res.headers.get("access-control-allow-headers")).toBe(
        "authorization,content-type,if-none-match,x-request-id,x-consistency-token",
      );
      expect(res.headers.get("access-control-max-age")).toBe("600");
      expect(res.headers.get("www-authenticate")).toBeNull();
    }
  });

  it("a preflight from another origin is not granted", async () => {
    const res = await send("OPTIONS", "/api/v1/skills", {
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(res.status).not.toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("x-content-type-options and cache-control", () => {
  it("every authenticated response, success or error, is nosniff and no-store", async () => {
    for (const [label, method, path, opts, status] of await responseKinds()) {
      const res = await send(method, path, opts);
      expect(res.status, label).toBe(status);
      expect(res.headers.get("content-type"), label).toMatch(/^application\/json/);
      expect(res.headers.get("x-content-type-options"), label).toBe("nosniff");
      expect(res.headers.get("cache-control"), label).toBe("no-store");
    }
  });

  it("a request without a token: the 401 is nosniff and carries the challenge", async () => {
    const res = await send("GET", "/api/v1/skills");
    expect(res.status).toBe(401);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
  });

  it.each([
    ["/health", /^application\/json/],
    ["/openapi.json", /^application\/json/],
    ["/.well-known/jwks.json", /^application\/json/],
    ["/docs", /^text\/html/],
    ["/kiosk", /^text\/html/],
    ["/nowhere", /^application\/json/],
  ])("public %s is nosniff", async (path, type) => {
    const res = await send("GET", path);
    expect(res.headers.get("content-type")).toMatch(type);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
