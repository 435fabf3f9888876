import type { Access } from "./auth/access";
import type { Principal } from "./auth/principal";
import type { Config } from "./config";
import type { Db } from "./db/client";
import type { Logger } from "./lib/logger";

/**
 * What a service may use, built once per request (or per queue batch / cron run). Services take
 * it explicitly, `now` included, so time and storage are controllable in tests.
 */
export interface Deps {
  db: Db;
  env: Env;
  config: Config;
  kv: KVNamespace;
  now: Date;
  logger: Logger;
  requestId: string;
  /** Work that must finish but not delay the response (ctx.waitUntil). */
  waitUntil: (promise: Promise<unknown>) => void;
}

export interface AppVariables {
  requestId: string;
  logger: Logger;
  deps: Deps;
  principal: Principal;
  /** The matched route's declared access (set by the authorize middleware). */
  access: Access;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
