import { envWithD1, hookD1 } from "./d1-hooks";

/** D1's transient failures as production words them (its error list). */
export const TRANSIENT_D1_ERRORS = [
  "D1_ERROR: Network connection lost.",
  "D1_ERROR: D1 DB storage operation exceeded timeout which caused object to be reset.",
  "D1_ERROR: Internal error while starting up D1 DB storage caused object to be reset.",
  "D1_ERROR: D1 DB reset because its code was updated.",
  "D1_ERROR: D1 DB is overloaded. Requests queued for too long.",
] as const;

export interface FaultOptions {
  /** How many matching calls fail before the binding behaves again (Infinity: an outage). */
  failures: number;
  message: string;
  /** Which calls the faults hit: read-only ones, writing ones, or any (default). */
  only?: "reads" | "writes";
}

export interface FaultLog {
  /** Calls that reached the wrapper (each statement run, each batch), failed ones included. */
  calls: number;
  /** Calls failed on purpose. */
  injected: number;
  /** Calls that wrote (a statement that is not a read, or a batch holding one). */
  writes: number;
}

const isRead = (query: string) => /^\s*(select|with)\b/i.test(query);

/**
 * The test env with every shard wrapped (the directory is left alone): the first `failures`
 * matching calls, counted over all shards, throw `message` instead of reaching the database;
 * every other call goes to the real local D1 (nothing is mocked).
 */
export function faultyEnv(opts: FaultOptions): { env: Env; log: FaultLog } {
  const log: FaultLog = { calls: 0, injected: 0, writes: 0 };
  let left = opts.failures;
  const attempt = <T>(reads: boolean, run: () => Promise<T>): Promise<T> => {
    log.calls += 1;
    if (!reads) log.writes += 1;
    const hit = opts.only === undefined || (opts.only === "reads") === reads;
    if (hit && left > 0) {
      left -= 1;
      log.injected += 1;
      return Promise.reject(new Error(opts.message));
    }
    return run();
  };
  const real = new WeakMap<object, D1PreparedStatement>();
  const readOnly = new WeakMap<object, boolean>();
  const wrap = (stmt: D1PreparedStatement, reads: boolean): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrap(value.apply(target, args), reads);
        if (prop === "all" || prop === "first" || prop === "run" || prop === "raw") {
          return (...args: unknown[]) => attempt(reads, () => value.apply(target, args));
        }
        return value.bind(target);
      },
    });
    real.set(proxy, stmt);
    readOnly.set(proxy, reads);
    return proxy;
  };
  const faulty = (db: D1Database) =>
    hookD1(db, {
      prepare: (target, query) => wrap(target.prepare(query), isRead(query)),
      batch: (target, statements) =>
        attempt(
          statements.every((s) => readOnly.get(s) === true),
          () => target.batch(statements.map((s) => real.get(s) ?? s)),
        ),
    });
  return { env: envWithD1((db, name) => (name === "DIRECTORY" ? db : faulty(db))), log };
}
