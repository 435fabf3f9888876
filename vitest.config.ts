import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Test-only secrets: never used outside the test runtime. */
export const TEST_JWT_SECRET = "test-secret-0123456789abcdef0123456789abcdef";
export const TEST_WEBHOOK_ENCRYPTION_KEY = "dGVzdC13ZWJob29rLWVuY3J5cHRpb24ta2V5LTMyYnk=";
export const TEST_ALLOWLIST_SIGNING_KEY =
  '{"crv":"Ed25519","d":"0U9TYC-DB3wH8NTMhxlJKZ72wsfZv886IzcHmtSAqf8","x":"F_VRJSG2Q4cu9gj3JiEnmr22JeLkOaM8q016HRi5JkQ","kty":"OKP","kid":"allowlist-2026-11-24-1ae1e59d","alg":"EdDSA","use":"sig"}';

/**
 * The suite runs with every budget on, as deployed, at a limit no test reaches; the tests of the
 * budgets swap in small bindings of their own, counted in 10-second windows (the shortest the
 * binding allows) so that a spent budget comes back without waiting a minute.
 */
const SUITE_BUDGET_PER_MINUTE = 1_000_000;
const TEST_BUDGET_LIMITS = { caller: 3, badge: 2, makerspace: 2 };
const suiteBudget = (namespace_id: string) => ({
  namespace_id,
  simple: { limit: SUITE_BUDGET_PER_MINUTE, period: 60 as const },
});
const testBudget = (namespace_id: string, limit: number) => ({ namespace_id, simple: { limit, period: 10 as const } });

/**
 * The service's routine log lines — JSON at level `info` (cron summaries, "audit batch consumed")
 * and "slow request" warnings, which a busy 2-core machine produces at random — are not printed
 * during tests, so a green run reads as one; `TEST_LOGS=all` prints them. Warnings and errors a
 * test provokes on purpose are captured by that test (`captureLogs()`, test/helpers/logs.ts); any
 * other line still prints.
 */
function isRoutineLogLine(log: string): boolean {
  if (process.env.TEST_LOGS === "all" || !log.startsWith('{"level":')) return false;
  try {
    const { level, msg } = JSON.parse(log) as { level?: string; msg?: string };
    return level === "info" || (level === "warn" && msg === "slow request");
  } catch {
    return false;
  }
}

// wrangler.toml's [assets] directory must exist for the plugin to start; `npm test` builds the
// console into it first (test/console-support/console-assets.test.ts reads the built files).
mkdirSync(fileURLToPath(new URL("./console/dist", import.meta.url)), { recursive: true });

// Wrangler's "Using secrets defined in .dev.vars", once per test file, is information only.
process.env.WRANGLER_LOG ??= "warn";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // A second, real D1 that setup leaves unmigrated: what a server answering before its
          // migrations would serve (test/http/health.test.ts).
          d1Databases: ["UNMIGRATED_DB"],
          ratelimits: {
            CALLER_BUDGET: suiteBudget("1001"),
            BADGE_BUDGET: suiteBudget("1002"),
            MAKERSPACE_BUDGET: suiteBudget("1003"),
            TEST_CALLER_BUDGET: testBudget("9001", TEST_BUDGET_LIMITS.caller),
            TEST_BADGE_BUDGET: testBudget("9002", TEST_BUDGET_LIMITS.badge),
            TEST_MAKERSPACE_BUDGET: testBudget("9003", TEST_BUDGET_LIMITS.makerspace),
          },
          bindings: {
            TEST_MIGRATIONS: migrations,
            JWT_SECRET_KEY: TEST_JWT_SECRET,
            ALLOWLIST_SIGNING_KEY: TEST_ALLOWLIST_SIGNING_KEY,
            WEBHOOK_ENCRYPTION_KEY: TEST_WEBHOOK_ENCRYPTION_KEY,
            // The plugin also reads a local .dev.vars (which `npm run dev` creates): tests run with
            // the deployed settings whatever it holds, and set others per test with envWith().
            ALLOW_UNREGISTERED_DEVICES: "false",
            JWT_SECRET_KEY_PREVIOUS: "",
            ALLOWLIST_SIGNING_KEY_PREVIOUS: "",
            RATE_CALLER_PER_MINUTE: String(SUITE_BUDGET_PER_MINUTE),
            RATE_BADGE_PER_MINUTE: String(SUITE_BUDGET_PER_MINUTE),
            RATE_MAKERSPACE_PER_MINUTE: String(SUITE_BUDGET_PER_MINUTE),
            TEST_BUDGET_LIMITS,
            // Property tests use a fixed seed so CI is reproducible; `FC_SEED=$RANDOM npm test` explores.
            FC_SEED: process.env.FC_SEED ?? "20261124",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup/apply-migrations.ts", "./test/setup/shards.ts", "./test/setup/platform-limits.ts"],
      // On 127.0.0.1, URLs via inject(): a JWKS endpoint for identity-provider tokens, and a
      // webhook receiver that records deliveries.
      globalSetup: ["./test/setup/jwks-server.ts", "./test/setup/webhook-receiver.ts"],
      testTimeout: 30_000,
      onConsoleLog: (log: string) => (isRoutineLogLine(log) ? false : undefined),
      // The JSON report is what .ci/run counts for its closing "N passed, M failed" line.
      reporters: ["default", ["json", { outputFile: "test-results/unit.json" }] as [string, { outputFile: string }]],
    },
  };
});
