import { loadConfig } from "./config";
import type { Deps } from "./context";
import { createDb } from "./db/client";
import { retryingD1 } from "./db/retry";
import { createLogger, type Logger } from "./lib/logger";

/**
 * The one way to build a `Deps`, shared by the HTTP middleware, the queue consumer and the cron,
 * so all three see the same bindings, the same validated configuration (an invalid value throws
 * `config_error`: fail closed) and the same logging. Reads are retried on D1's transient
 * failures (`retryingD1`); writes never are.
 */
export function buildDeps(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  requestId: string,
  opts: { logger?: Logger; now?: Date } = {},
): Deps {
  return {
    db: createDb(retryingD1(env.DB)),
    env,
    config: loadConfig(env),
    kv: env.USER_SKILLS_CACHE,
    now: opts.now ?? new Date(),
    logger: opts.logger ?? createLogger({ request_id: requestId }),
    requestId,
    waitUntil: (p) => ctx.waitUntil(p),
  };
}
