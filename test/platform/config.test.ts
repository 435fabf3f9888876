import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { loadConfig } from "../../src/platform/config";
import { AppError } from "../../src/platform/errors";
import { callJson, envWith } from "../helpers/http";
import { admin } from "../helpers/tokens";

type Vars = Parameters<typeof envWith>[0];

/** loadConfig on a fresh env object (config is remembered per env object). */
function configOf(vars: Vars) {
  return loadConfig(envWith(vars));
}

function configError(vars: Vars): AppError {
  try {
    configOf(vars);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error(`expected config_error for ${JSON.stringify(vars)}`);
}

let consoleError: MockInstance<typeof console.error>;
beforeEach(() => {
  // Every invalid value logs an error line by design; keep the test output readable.
  consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

const POSITIVE_INTS = [
  ["SKILL_CERTIFICATION_EXPIRY_DAYS", 365],
  ["SKILL_AUDIT_RETENTION_DAYS", 1825],
  ["ACCESS_EVENT_RETENTION_DAYS", 90],
  ["ACCESS_TOKEN_EXPIRE_MINUTES", 30],
  ["DEVICE_HEARTBEAT_SECONDS", 60],
  ["DEVICE_TOKEN_TTL_DAYS", 365],
  ["ALLOWLIST_TTL_SECONDS", 900],
  ["USER_SKILLS_CACHE_TTL_SECONDS", 300],
  ["WEBHOOK_DELIVERY_RETENTION_DAYS", 30],
] as const;

const BOOLEANS = [
  ["SKILL_REQUEST_AUTO_APPROVE", false],
  ["EQUIPMENT_SKILL_ENFORCEMENT", true],
  ["EQUIPMENT_EMERGENCY_OVERRIDE", false],
  ["ALLOW_UNREGISTERED_DEVICES", false],
] as const;

describe("defaults (wrangler.toml [vars])", () => {
  it("parse to the documented values", () => {
    const config = configOf({});
    expect(config).toMatchObject({
      SKILL_CERTIFICATION_EXPIRY_DAYS: 365,
      SKILL_REQUEST_AUTO_APPROVE: false,
      SKILL_AUDIT_RETENTION_DAYS: 1825,
      ACCESS_EVENT_RETENTION_DAYS: 90,
      EQUIPMENT_SKILL_ENFORCEMENT: true,
      EQUIPMENT_EMERGENCY_OVERRIDE: false,
      JWT_ALGORITHM: "HS256",
      ACCESS_TOKEN_EXPIRE_MINUTES: 30,
      USER_SKILLS_CACHE_TTL_SECONDS: 300,
      DEVICE_HEARTBEAT_SECONDS: 60,
      DEVICE_TOKEN_TTL_DAYS: 365,
      ALLOWLIST_TTL_SECONDS: 900,
      ALLOWED_ORIGINS: [],
      ALLOW_UNREGISTERED_DEVICES: false,
      JWT_ROLE_CLAIM: "role",
      JWT_MAKERSPACE_CLAIM: "makerspace_id",
    });
    expect(config.JWT_ISSUER).toBeUndefined();
    expect(config.JWT_AUDIENCE).toBeUndefined();
    expect(config.JWT_JWKS_URL).toBeUndefined();
    expect(config.JWT_SECRET_KEY_PREVIOUS).toBeUndefined();
    expect(config.ALLOWLIST_SIGNING_KEY_PREVIOUS).toBeUndefined();
  });
});

describe.each(POSITIVE_INTS)("%s (whole number)", (name, fallback) => {
  it("accepts a positive whole number", () => {
    expect(configOf({ [name]: "720" })[name]).toBe(720);
  });
  it("falls back to the default when empty", () => {
    expect(configOf({ [name]: "" })[name]).toBe(fallback);
  });
  it.each(["0", "-1", "1.5", "abc", "12d", " "])("rejects %j", (value) => {
    expect(configError({ [name]: value }).type).toBe("config_error");
  });
});

describe("USER_SKILLS_CACHE_TTL_SECONDS", () => {
  it("must be at least 60 (KV's minimum expirationTtl)", () => {
    expect(configError({ USER_SKILLS_CACHE_TTL_SECONDS: "59" }).type).toBe("config_error");
    expect(configOf({ USER_SKILLS_CACHE_TTL_SECONDS: "60" }).USER_SKILLS_CACHE_TTL_SECONDS).toBe(60);
  });
});

describe.each(BOOLEANS)("%s (true|false)", (name, fallback) => {
  it("accepts true and false", () => {
    expect(configOf({ [name]: "true" })[name]).toBe(true);
    expect(configOf({ [name]: "false" })[name]).toBe(false);
  });
  it("falls back to the default when empty", () => {
    expect(configOf({ [name]: "" })[name]).toBe(fallback);
  });
  it.each(["yes", "1", "TRUE", "on", "0"])("rejects %j (fails closed, never guesses)", (value) => {
    expect(configError({ [name]: value }).type).toBe("config_error");
  });
});

describe("JWT_SECRET_KEY", () => {
  it("is required", () => {
    expect(configError({ JWT_SECRET_KEY: "" }).type).toBe("config_error");
    expect(configError({ JWT_SECRET_KEY: undefined }).type).toBe("config_error");
  });
  it("must be at least 16 characters", () => {
    expect(configError({ JWT_SECRET_KEY: "short-secret-15" }).type).toBe("config_error");
    expect(configOf({ JWT_SECRET_KEY: "exactly-16-chars" }).JWT_SECRET_KEY).toBe("exactly-16-chars");
  });
});

describe("JWT_ALGORITHM", () => {
  it.each(["HS256", "HS384", "HS512"])("accepts %s", (alg) => {
    expect(configOf({ JWT_ALGORITHM: alg }).JWT_ALGORITHM).toBe(alg);
  });
  it("defaults to HS256 when empty", () => {
    expect(configOf({ JWT_ALGORITHM: "" }).JWT_ALGORITHM).toBe("HS256");
  });
  it.each(["none", "RS256", "ES256", "hs256", "EdDSA"])("rejects %s", (alg) => {
    expect(configError({ JWT_ALGORITHM: alg }).type).toBe("config_error");
  });
});

describe.each(["JWT_ISSUER", "JWT_AUDIENCE"] as const)("%s (optional)", (name) => {
  it("empty or blank means not checked", () => {
    expect(configOf({ [name]: "" })[name]).toBeUndefined();
    expect(configOf({ [name]: "   " })[name]).toBeUndefined();
  });
  it("is trimmed when set", () => {
    expect(configOf({ [name]: " https://id.example " })[name]).toBe("https://id.example");
  });
});

describe("JWT_SECRET_KEY_PREVIOUS (optional secret)", () => {
  it("empty means no rotation under way", () => {
    expect(configOf({ JWT_SECRET_KEY_PREVIOUS: "" }).JWT_SECRET_KEY_PREVIOUS).toBeUndefined();
  });
  it("must be at least 16 characters when set, and is kept as given", () => {
    expect(configError({ JWT_SECRET_KEY_PREVIOUS: "short-secret-15" }).type).toBe("config_error");
    expect(configOf({ JWT_SECRET_KEY_PREVIOUS: " exactly-16-char" }).JWT_SECRET_KEY_PREVIOUS).toBe(" exactly-16-char");
  });
});

describe("JWT_JWKS_URL (optional)", () => {
  it.each([
    "https://id.example/.well-known/jwks.json",
    "https://localhost/jwks",
    "http://127.0.0.1:8788/jwks",
    "http://localhost:9000/keys",
  ])("accepts %s", (url) => {
    expect(configOf({ JWT_JWKS_URL: url, JWT_AUDIENCE: "skills" }).JWT_JWKS_URL).toBe(new URL(url).href);
  });
  it("empty means no identity provider", () => {
    expect(configOf({ JWT_JWKS_URL: "" }).JWT_JWKS_URL).toBeUndefined();
  });
  it.each([
    "http://id.example/jwks",
    "http://127.0.0.2/jwks",
    "http://localhost.evil.example/jwks",
    "ftp://id.example/jwks",
    "id.example/jwks",
    "not a url",
    "https://user:pass@id.example/jwks",
  ])("rejects %s (https only, except on this machine)", (url) => {
    expect(configError({ JWT_JWKS_URL: url }).type).toBe("config_error");
  });
  it("logs a warning when set without JWT_AUDIENCE", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    configOf({ JWT_JWKS_URL: "https://id.example/jwks" });
    expect(warn.mock.calls.map((args) => String(args[0])).join("\n")).toContain("without JWT_AUDIENCE");
    warn.mockClear();
    configOf({ JWT_JWKS_URL: "https://id.example/jwks", JWT_AUDIENCE: "skills" });
    expect(warn).not.toHaveBeenCalled();
  });
});

describe.each([
  ["JWT_ROLE_CLAIM", "role"],
  ["JWT_MAKERSPACE_CLAIM", "makerspace_id"],
] as const)("%s", (name, fallback) => {
  it("defaults when empty", () => {
    expect(configOf({ [name]: "" })[name]).toBe(fallback);
  });
  it("names another claim, namespaced ones included", () => {
    expect(configOf({ [name]: "https://makrcave.example/claims/x" })[name]).toBe("https://makrcave.example/claims/x");
  });
  it("is at most 200 characters", () => {
    expect(configError({ [name]: "c".repeat(201) }).type).toBe("config_error");
  });
});

describe.each([
  ["RATE_CALLER_PER_MINUTE", "CALLER_BUDGET", 600],
  ["RATE_BADGE_PER_MINUTE", "BADGE_BUDGET", 60],
  ["RATE_MAKERSPACE_PER_MINUTE", "MAKERSPACE_BUDGET", 10],
] as const)("%s (a budget a minute)", (name, binding, fallback) => {
  it("defaults when empty, and takes the binding's limit", () => {
    expect(configOf({ [name]: "" })[name]).toBe(fallback);
    expect(configOf({ [name]: "1200" })[name]).toBe(1200);
  });
  it("is off at 0, and then needs no binding", () => {
    expect(loadConfig({ ...envWith({ [name]: "0" }), [binding]: undefined } as unknown as Env)[name]).toBe(0);
  });
  it.each(["-1", "1.5", "abc", "60/min", "1000000001"])("rejects %j", (value) => {
    expect(configError({ [name]: value }).type).toBe("config_error");
  });
  it("is a config_error when on without its binding, naming both", () => {
    const err = (() => {
      try {
        loadConfig({ ...envWith({ [name]: "5" }), [binding]: undefined } as unknown as Env);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    const line = consoleError.mock.calls.map((args) => String(args[0])).find((l) => l.includes(binding));
    expect(line).toContain(name);
  });
});

describe("ALLOWED_ORIGINS", () => {
  it("is a comma-separated list", () => {
    expect(configOf({ ALLOWED_ORIGINS: "https://a.example, https://b.example,," }).ALLOWED_ORIGINS).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
  });
});

describe("an invalid value", () => {
  it("logs a line naming the variable, never its value", () => {
    configError({ JWT_SECRET_KEY: "tiny-secret" });
    const lines = consoleError.mock.calls.map((args) => String(args[0]));
    const line = lines.find((l) => l.includes("invalid configuration"));
    expect(line).toBeDefined();
    expect(line).toContain("JWT_SECRET_KEY");
    expect(line).not.toContain("tiny-secret");
    expect(JSON.parse(line as string)).toMatchObject({ level: "error" });
  });

  it("makes an API request answer 500 config_error in the contract shape", async () => {
    const bad = envWith({ EQUIPMENT_SKILL_ENFORCEMENT: "maybe" });
    const res = await callJson("GET", "/api/v1/skills", { token: await admin(), env: bad });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      detail: "Service configuration is invalid",
      status_code: 500,
      error_type: "config_error",
    });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("fails every route closed, the unauthenticated ones too", async () => {
    const bad = envWith({ ACCESS_TOKEN_EXPIRE_MINUTES: "-5" });
    for (const path of ["/health", "/api/v1/equipment"]) {
      const res = await callJson("GET", path, { token: await admin(), env: bad });
      expect(res.status, path).toBe(500);
      expect(res.body, path).toEqual({
        detail: "Service configuration is invalid",
        status_code: 500,
        error_type: "config_error",
      });
    }
  });

  it("keeps failing on later requests (remembered per isolate, not retried open)", async () => {
    const bad = envWith({ JWT_ALGORITHM: "none" });
    for (let i = 0; i < 2; i++) {
      const res = await callJson("GET", "/api/v1/skills", { token: await admin(), env: bad });
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ error_type: "config_error" });
    }
  });
});
