import type { Routing } from "../http/shard-routing";
import type { Access } from "../identity/access";
import type { Principal } from "../identity/principal";
import type { Config } from "./config";
import type { D1Queryable, Db } from "./db/client";
import type { Consistency } from "./db/sessions";
import type { ShardName } from "./db/shards";
import type { Logger } from "./logger";

/**
 * What a service may use, built once per request (or per queue batch / cron run). Services take
 * it explicitly, `now` included, so time and storage are controllable in tests.
 */
export interface Deps {
  /**
   * The shard holding the request's makerspace (src/http/shard-routing.ts): every query a
   * service makes through it reaches the right database, so services need not know about shards.
   */
  db: Db;
  /**
   * The D1 binding or session `db` is built on (reads retried as `db`'s are), for hand-written
   * statements Drizzle's batch cannot run (`runSqlBatch`).
   */
  d1: D1Queryable;
  /** Which shard `db` is (generated ids are tagged with it). */
  shard: ShardName;
  /**
   * The same deps on another shard — for work that spans makerspaces: a super_admin's listing
   * across shards, the per-shard cron and consumer. Reads as this request reads unless told.
   */
  onShard(shard: ShardName, consistency?: Consistency): Deps;
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
  /** Where the request's queries go, and why (src/http/shard-routing.ts). */
  routing: Routing;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
