import { env } from "cloudflare:workers";
import { envWithD1, hookD1 } from "./d1-hooks";

export interface D1Counter {
  /** Calls that reach D1: each statement run outside a batch, and each batch. */
  roundTrips: number;
  batches: number;
  statements: number;
  /** Every SQL statement D1 runs, inside a batch or not (Workers allow 1,000 per invocation). */
  queries: number;
  /** The largest statement seen: SQL text (bytes), bound parameters (count), one parameter (bytes). */
  maxSqlBytes: number;
  maxParams: number;
  maxParamBytes: number;
  /** Round trips per binding name (DIRECTORY, SHARD_0, …), for the counting env. */
  byBinding: Record<string, number>;
  reset(): void;
}

const utf8 = new TextEncoder();
const bytesOf = (v: unknown) => (typeof v === "string" ? utf8.encode(v).byteLength : 8);

function newCounter(): D1Counter {
  return {
    roundTrips: 0,
    batches: 0,
    statements: 0,
    queries: 0,
    maxSqlBytes: 0,
    maxParams: 0,
    maxParamBytes: 0,
    byBinding: {},
    reset() {
      this.roundTrips = 0;
      this.batches = 0;
      this.statements = 0;
      this.queries = 0;
      this.maxSqlBytes = 0;
      this.maxParams = 0;
      this.maxParamBytes = 0;
      this.byBinding = {};
    },
  };
}

/**
 * A counting wrapper around a real D1 binding and its sessions (not a mock: every call goes to
 * local D1). Statements are wrapped so their executions count; batches unwrap them for the real
 * binding.
 */
export function countingD1(
  db: D1Database = env.SHARD_0,
  counter: D1Counter = newCounter(),
  name = "SHARD_0",
): { db: D1Database; counter: D1Counter } {
  const count = (statements: number, batch: boolean) => {
    counter.roundTrips += 1;
    counter.queries += statements;
    if (batch) counter.batches += 1;
    else counter.statements += 1;
    counter.byBinding[name] = (counter.byBinding[name] ?? 0) + 1;
  };
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") {
          return (...args: unknown[]) => {
            counter.maxParams = Math.max(counter.maxParams, args.length);
            for (const arg of args) counter.maxParamBytes = Math.max(counter.maxParamBytes, bytesOf(arg));
            return wrapStatement(value.apply(target, args));
          };
        }
        if (prop === "all" || prop === "first" || prop === "run" || prop === "raw") {
          return (...args: unknown[]) => {
            count(1, false);
            return value.apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
    real.set(proxy, stmt);
    return proxy;
  };
  const wrapped = hookD1(db, {
    prepare: (target, query) => {
      counter.maxSqlBytes = Math.max(counter.maxSqlBytes, utf8.encode(query).byteLength);
      return wrapStatement(target.prepare(query));
    },
    batch: (target, statements) => {
      count(statements.length, true);
      return target.batch(statements.map((s) => real.get(s) ?? s));
    },
  });
  return { db: wrapped, counter };
}

/**
 * The test env with the directory and every shard replaced by counting wrappers sharing one
 * counter (a fresh env object, so config is re-read).
 */
export function countingEnv(): { env: Env; counter: D1Counter } {
  const counter = newCounter();
  return { env: envWithD1((db, name) => countingD1(db, counter, name).db), counter };
}
