import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Test-only secrets: never used outside the test runtime. */
export const TEST_JWT_SECRET = "test-secret-0123456789abcdef0123456789abcdef";
export const TEST_ALLOWLIST_SIGNING_KEY =
  '{"crv":"Ed25519","d":"0U9TYC-DB3wH8NTMhxlJKZ72wsfZv886IzcHmtSAqf8","x":"F_VRJSG2Q4cu9gj3JiEnmr22JeLkOaM8q016HRi5JkQ","kty":"OKP","kid":"allowlist-2026-11-24-1ae1e59d","alg":"EdDSA","use":"sig"}';

export default defineConfig(async () => {
  const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            JWT_SECRET_KEY: TEST_JWT_SECRET,
            ALLOWLIST_SIGNING_KEY: TEST_ALLOWLIST_SIGNING_KEY,
            // Property tests use a fixed seed so CI is reproducible; `FC_SEED=$RANDOM npm test` explores.
            FC_SEED: process.env.FC_SEED ?? "20261124",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup/apply-migrations.ts", "./test/setup/platform-limits.ts"],
      testTimeout: 30_000,
      // The JSON report is what .ci/run counts for its closing "N passed, M failed" line.
      reporters: ["default", ["json", { outputFile: "test-results/unit.json" }] as [string, { outputFile: string }]],
    },
  };
});
