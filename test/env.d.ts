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
