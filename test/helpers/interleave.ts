import { env } from "cloudflare:workers";

/**
 * The test env with the real D1 binding, where `action` runs just before the first batch the
 * Worker sends: the interleaving two racing requests produce, made deterministic.
 */
export function envBeforeNextBatch(action: (db: D1Database) => Promise<unknown>): Env {
  let fired = false;
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (!fired) {
            fired = true;
            await action(target);
          }
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, DB: db } as Env;
}
