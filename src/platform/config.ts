import { z } from "zod";
import { BUDGET_NAMES, BUDGETS } from "../http/budgets-policy";
import { AppError } from "./errors";
import { createLogger } from "./logger";

const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const positiveInt = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform(Number)
  .pipe(z.number().int().positive());
/** A budget a minute (the Rate Limiting binding's limit); `0` turns the budget off. */
const perMinute = z
  .string()
  .regex(/^\d+$/, "must be a whole number (0 turns the budget off)")
  .transform(Number)
  .pipe(z.number().int().max(1_000_000_000, "must be at most 1000000000"));
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== "" ? v.trim() : undefined));
/** A claim name of the identity provider's tokens (top-level; namespaced URLs allowed). */
const claimName = (fallback: string) =>
  optionalText.pipe(z.string().max(200, "must be at most 200 characters").default(fallback));
/** `https`, or plain `http` only to this machine (a local identity provider in development). */
const jwksUrl = optionalText.pipe(
  z
    .string()
    .transform((v, ctx) => {
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a URL" });
        return z.NEVER;
      }
      const local = url.hostname === "127.0.0.1" || url.hostname === "localhost";
      if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
        ctx.addIssue({ code: "custom", message: "must be https (http only on 127.0.0.1 or localhost)" });
        return z.NEVER;
      }
      if (url.username || url.password) {
        ctx.addIssue({ code: "custom", message: "must not carry credentials" });
        return z.NEVER;
      }
      return url.href;
    })
    .optional(),
);

/**
 * The service's configuration. Every variable is validated; an invalid value makes every request fail with
 * 500 `config_error` (fail closed) rather than fall back to a default that might open a door.
 */
export const ConfigSchema = z.object({
  SKILL_CERTIFICATION_EXPIRY_DAYS: positiveInt.default(365),
  SKILL_REQUEST_AUTO_APPROVE: bool.default(false),
  SKILL_AUDIT_RETENTION_DAYS: positiveInt.default(1825),
  /** How long `access_granted` / `access_denied` stay in D1; the R2 archive keeps them after. */
  ACCESS_EVENT_RETENTION_DAYS: positiveInt.default(90),
  EQUIPMENT_SKILL_ENFORCEMENT: bool.default(true),
  EQUIPMENT_EMERGENCY_OVERRIDE: bool.default(false),
  JWT_SECRET_KEY: z.string().min(16, "must be at least 16 characters"),
  /** The secret being rotated out: its tokens are still accepted, none is issued with it. */
  JWT_SECRET_KEY_PREVIOUS: z.string().min(16, "must be at least 16 characters").optional(),
  JWT_ALGORITHM: z.enum(["HS256", "HS384", "HS512"]).default("HS256"),
  ACCESS_TOKEN_EXPIRE_MINUTES: positiveInt.default(30),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  JWT_JWKS_URL: jwksUrl,
  JWT_ROLE_CLAIM: claimName("role"),
  JWT_MAKERSPACE_CLAIM: claimName("makerspace_id"),
  ALLOW_UNREGISTERED_DEVICES: bool.default(false),
  USER_SKILLS_CACHE_TTL_SECONDS: positiveInt.pipe(z.number().min(60, "KV needs at least 60")).default(300),
  DEVICE_HEARTBEAT_SECONDS: positiveInt.default(60),
  DEVICE_TOKEN_TTL_DAYS: positiveInt.default(365),
  ALLOWLIST_TTL_SECONDS: positiveInt.default(900),
  ALLOWLIST_SIGNING_KEY: optionalText,
  /** Published beside the current key (a private or public Ed25519 JWK); never signs. */
  ALLOWLIST_SIGNING_KEY_PREVIOUS: optionalText,
  RATE_CALLER_PER_MINUTE: perMinute.default(600),
  RATE_BADGE_PER_MINUTE: perMinute.default(60),
  RATE_MAKERSPACE_PER_MINUTE: perMinute.default(10),
  /** AES-256 key (base64 of 32 bytes) sealing webhook secrets in D1; checked where used (src/webhooks/secret-box.ts). */
  WEBHOOK_ENCRYPTION_KEY: optionalText,
  WEBHOOK_DELIVERY_RETENTION_DAYS: positiveInt.default(30),
  /** The admin console's OpenID Connect provider (https; http only on this machine) and client. */
  OIDC_ISSUER: jwksUrl,
  OIDC_CLIENT_ID: optionalText.pipe(z.string().max(200, "must be at most 200 characters").optional()),
  OIDC_SCOPES: optionalText.pipe(
    z
      .string()
      .max(500, "must be at most 500 characters")
      .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, "must be scopes separated by single spaces")
      .default("openid profile email"),
  ),
  ALLOWED_ORIGINS: optionalText.transform((v) =>
    v
      ? v
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean)
      : [],
  ),
});

export type Config = z.infer<typeof ConfigSchema>;

type ConfigResult = { ok: true; config: Config } | { ok: false; error: AppError };

const parsed = new WeakMap<object, ConfigResult>();

/** Parses once per isolate (per env object); the result, good or bad, is remembered. */
export function loadConfig(env: Env): Config {
  let result = parsed.get(env);
  if (!result) {
    result = parseConfig(env);
    parsed.set(env, result);
  }
  if (!result.ok) throw result.error;
  return result.config;
}

/** A budget that is on needs its binding: counting nowhere would silently turn it off. */
function missingBudgetBindings(env: Env, config: Config): string[] {
  return BUDGET_NAMES.flatMap((name) => {
    const { binding, variable } = BUDGETS[name];
    const limiter = (env as unknown as Record<string, { limit?: unknown } | undefined>)[binding];
    return config[variable] > 0 && typeof limiter?.limit !== "function"
      ? [`${variable}: is on but the ${binding} binding is missing`]
      : [];
  });
}

function parseConfig(env: Env): ConfigResult {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = (env as unknown as Record<string, unknown>)[key];
    raw[key] = value === "" && key !== "JWT_SECRET_KEY" ? undefined : value;
  }
  const out = ConfigSchema.safeParse(raw);
  const variables = out.success
    ? missingBudgetBindings(env, out.data)
    : out.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
  if (!out.success || variables.length > 0) {
    createLogger().error("invalid configuration", { variables });
    return { ok: false, error: new AppError("config_error", "Service configuration is invalid") };
  }
  if (out.data.JWT_JWKS_URL && !out.data.JWT_AUDIENCE) {
    // Legal, but the provider's tokens for any other application carrying these claims pass too.
    createLogger().warn("JWT_JWKS_URL is set without JWT_AUDIENCE", { variables: ["JWT_AUDIENCE"] });
  }
  return { ok: true, config: out.data };
}
