import { AppError } from "../errors";
import type { D1Queryable } from "./client";

/**
 * D1's transient failures, as its error list names them: the database was unreachable, restarting
 * or overloaded, and the statement may not have run. Retrying is safe for a read only — a write's
 * outcome is unknown.
 */
const TRANSIENT = [
  /Network connection lost/i,
  /storage caused object to be reset/i,
  /reset because its code was updated/i,
  /exceeded timeout which caused object to be reset/i,
  /due to transient issue/i,
  /\boverloaded\b/i,
];

export function isTransientD1Error(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let cur = err; cur instanceof Error && !seen.has(cur); cur = cur.cause) {
    if (TRANSIENT.some((re) => re.test(cur.message))) return true;
    seen.add(cur);
  }
  return false;
}

/**
 * A statement that only reads, classified as D1 classifies its own retries: it starts with
 * SELECT or WITH and has no keyword that writes. Anything else is never retried here.
 */
export function isReadOnlySql(query: string): boolean {
  return /^\s*(select|with)\b/i.test(query) && !/\b(insert|update|delete|replace|drop|alter|create)\b/i.test(query);
}

export interface RetryPolicy {
  attempts: number;
  budgetMs: number;
  baseDelayMs: number;
}

/** Three tries within 300 ms: a request waits a little, never long, for a database that hiccups. */
export const READ_RETRY: RetryPolicy = { attempts: 3, budgetMs: 300, baseDelayMs: 50 };

/** Seconds a client is told to wait when the budget is spent. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Runs a read, retrying D1's transient failures with full-jitter exponential backoff (0–50 ms,
 * then 0–100 ms) while attempts and the time budget last. A transient failure that outlasts the
 * budget is 503 `unavailable` with `Retry-After`; any other failure is thrown unchanged.
 */
export async function retryRead<T>(run: () => Promise<T>, policy: RetryPolicy = READ_RETRY): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!isTransientD1Error(err)) throw err;
      const delay = Math.random() * policy.baseDelayMs * 2 ** (attempt - 1);
      if (attempt >= policy.attempts || Date.now() - started + delay > policy.budgetMs) {
        throw new AppError(
          "unavailable",
          "The database is temporarily unavailable; retry shortly",
          {},
          { retryAfterSeconds: RETRY_AFTER_SECONDS, cause: err },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

const wrapped = new WeakMap<D1Queryable, D1Queryable>();

/**
 * The D1 binding (or session) as the service uses it: every read-only statement (and every batch
 * made only of reads) is run through {@link retryRead}; writes go through untouched, exactly once.
 * Built once per binding per isolate, so the Drizzle instance over it is built once too (a
 * session, made per request, gets its own: a Proxy, no I/O).
 */
export function retryingD1<T extends D1Queryable>(d1: T): T {
  let db = wrapped.get(d1) as T | undefined;
  if (db) return db;
  const real = new WeakMap<object, D1PreparedStatement>();
  const readOnly = new WeakMap<object, boolean>();
  const wrap = (stmt: D1PreparedStatement, isRead: boolean): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrap(value.apply(target, args), isRead);
        if (isRead && (prop === "all" || prop === "first" || prop === "raw" || prop === "run")) {
          return (...args: unknown[]) => retryRead(() => value.apply(target, args));
        }
        return value.bind(target);
      },
    });
    real.set(proxy, stmt);
    readOnly.set(proxy, isRead);
    return proxy;
  };
  db = new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query), isReadOnlySql(query));
      if (prop === "batch") {
        return <T>(statements: D1PreparedStatement[]) => {
          const unwrapped = statements.map((s) => real.get(s) ?? s);
          const send = () => target.batch<T>(unwrapped);
          return statements.every((s) => readOnly.get(s) === true) ? retryRead(send) : send();
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  wrapped.set(d1, db);
  return db;
}
