import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Read from `migrations/` by vitest.config.ts and applied in test/setup. */
      TEST_MIGRATIONS: D1Migration[];
      /** A real D1 that test/setup does not migrate (vitest.config.ts). */
      UNMIGRATED_DB: D1Database;
      /** Seed for the fast-check properties (vitest.config.ts). */
      FC_SEED: string;
      /** Small budgets counted in 10-second windows, for the budget tests (vitest.config.ts). */
      TEST_CALLER_BUDGET: RateLimit;
      TEST_BADGE_BUDGET: RateLimit;
      TEST_MAKERSPACE_BUDGET: RateLimit;
      /** The limits of the TEST_* budgets, per 10-second window. */
      TEST_BUDGET_LIMITS: { caller: number; badge: number; makerspace: number };
    }
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the JWKS test server (test/setup/jwks-server.ts). */
    identityProviderUrl: string;
    /** Base URL of the webhook receiver (test/setup/webhook-receiver.ts). */
    webhookReceiverUrl: string;
  }
}
