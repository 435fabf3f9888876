import { loadConfig } from "./config";
import type { Deps } from "./context";
import { type Consistency, type OpenedShard, openShard } from "./db/sessions";
import { FIRST_SHARD, isShardName, type ShardName, shardNames } from "./db/shards";
import { createLogger, type Logger } from "./logger";

/** How each shard is read by these deps (HTTP requests choose per request; cron and queue: plain). */
export type ReadPolicy = (shard: ShardName) => Consistency;

const PLAIN: ReadPolicy = () => ({ kind: "plain" });

const sessions = new WeakMap<Deps, D1DatabaseSession>();

/**
 * The one way to build a `Deps`, shared by the HTTP middleware, the queue consumer and the cron,
 * so all three see the same bindings, the same validated configuration (an invalid value or a
 * missing DIRECTORY / SHARD_0 binding throws `config_error`: fail closed) and the same logging.
 * `db` is one shard's (SHARD_0 until the request is routed, src/http/shard-routing.ts);
 * reads are retried on D1's transient failures (`retryingD1`); writes never are.
 */
export function buildDeps(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  requestId: string,
  opts: { logger?: Logger; now?: Date; shard?: ShardName; reads?: ReadPolicy } = {},
): Deps {
  const config = loadConfig(env);
  shardNames(env);
  const base = {
    env,
    config,
    kv: env.USER_SKILLS_CACHE,
    now: opts.now ?? new Date(),
    logger: opts.logger ?? createLogger({ request_id: requestId }),
    requestId,
    waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p),
  };
  const reads = opts.reads ?? PLAIN;
  // The shard's session (and its Drizzle instance) is opened by the first query: a request that
  // needs none — a cached check answered from this isolate's memory — opens nothing.
  const on = (shard: ShardName, consistency: Consistency): Deps => {
    let opened: OpenedShard | undefined;
    const open = (): OpenedShard => {
      if (!opened) {
        opened = openShard(env, shard, consistency);
        if (opened.session) sessions.set(deps, opened.session);
      }
      return opened;
    };
    const deps: Deps = {
      ...base,
      get db() {
        return open().db;
      },
      get d1() {
        return open().d1;
      },
      shard: isShardName(env, shard) ? shard : FIRST_SHARD,
      onShard: (other, how) => on(other, how ?? reads(other)),
    };
    return deps;
  };
  const shard = opts.shard ?? FIRST_SHARD;
  return on(shard, reads(shard));
}

/** The D1 session bookmark of these deps' shard (null before any query, or for a plain binding). */
export function bookmarkOf(deps: Deps): string | null {
  return sessions.get(deps)?.getBookmark() ?? null;
}
