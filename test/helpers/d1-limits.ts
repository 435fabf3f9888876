import { hookD1 } from "./d1-hooks";

/** Production D1's limits per statement that local D1 does not enforce itself. */
export const D1_MAX_STATEMENT_BYTES = 100_000;
export const D1_MAX_BOUND_PARAMETERS = 100;

const WRAPPED = Symbol("d1-limits");
const utf8 = new TextEncoder();

/**
 * A wrapper around the real local D1 binding that refuses what production D1 refuses: a
 * statement longer than 100 KB or binding more than 100 parameters (every accepted call goes to
 * local D1 unchanged; sessions opened on it are limited too). Installed for every test, so any
 * statement that grows with its input past a limit fails a test instead of a production request.
 */
export function d1WithProductionLimits(db: D1Database): D1Database {
  if ((db as unknown as { [WRAPPED]?: true })[WRAPPED]) return db;
  const checkBind = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop !== "bind") return value.bind(target);
        return (...args: unknown[]) => {
          if (args.length > D1_MAX_BOUND_PARAMETERS) {
            throw new Error(`D1_ERROR: too many SQL variables (${args.length} bound, at most 100)`);
          }
          return value.apply(target, args);
        };
      },
    });
  const real = new WeakMap<object, D1PreparedStatement>();
  const limited = hookD1(db, {
    prepare(target, query) {
      const bytes = utf8.encode(query).byteLength;
      if (bytes > D1_MAX_STATEMENT_BYTES) {
        throw new Error(`D1_ERROR: statement too long (${bytes} bytes, at most 100,000)`);
      }
      const stmt = target.prepare(query);
      const proxy = checkBind(stmt);
      real.set(proxy, stmt);
      return proxy;
    },
    batch: (target, statements) => target.batch(statements.map((s) => real.get(s) ?? s)),
  });
  return new Proxy(limited, {
    get: (target, prop) => (prop === WRAPPED ? true : Reflect.get(target, prop, target)),
  });
}
