import { env } from "cloudflare:workers";
import type { D1Queryable } from "../../src/platform/db/client";

export interface D1Hooks {
  /** Replaces `prepare` (call `target.prepare` for the real statement). */
  prepare?: (target: D1Queryable, query: string) => D1PreparedStatement;
  /** Replaces `batch` (call `target.batch` with the real statements). */
  batch?: (target: D1Queryable, statements: D1PreparedStatement[]) => Promise<D1Result<unknown>[]>;
  /** Told of each session opened (its constraint or bookmark; undefined for `withSession()`). */
  onSession?: (constraintOrBookmark: string | undefined) => void;
}

/**
 * A D1 binding (or session) with `prepare` / `batch` replaced — and every session opened on it
 * (`withSession`, which the Worker uses for every request) hooked the same way, so a wrapper sees
 * all the Worker's queries. Everything else reaches the real binding.
 */
export function hookD1<T extends D1Queryable>(target: T, hooks: D1Hooks): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop === "prepare" && hooks.prepare) return (query: string) => hooks.prepare?.(t, query);
      if (prop === "batch" && hooks.batch) return (statements: D1PreparedStatement[]) => hooks.batch?.(t, statements);
      if (prop === "withSession") {
        return (...args: Parameters<D1Database["withSession"]>) => {
          hooks.onSession?.(args[0]);
          return hookD1((t as unknown as D1Database).withSession(...args), hooks);
        };
      }
      const value = Reflect.get(t, prop, t);
      return typeof value === "function" ? value.bind(t) : value;
    },
  });
}

/** The D1 bindings of the test env: the directory and every shard, by binding name. */
export function d1Bindings(from: Env = env): Record<string, D1Database> {
  const bindings = from as unknown as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(bindings)
      .filter((key) => key === "DIRECTORY" || /^SHARD_\d+$/.test(key))
      .map((key) => [key, bindings[key] as D1Database]),
  );
}

/** The test env with each of its D1 bindings (directory and shards) replaced by `wrap(binding, name)`. */
export function envWithD1(wrap: (db: D1Database, name: string) => D1Database, from: Env = env): Env {
  const replaced = Object.fromEntries(Object.entries(d1Bindings(from)).map(([name, db]) => [name, wrap(db, name)]));
  return { ...from, ...replaced } as Env;
}
