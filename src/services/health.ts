import { type RefusalCounts, refusalCounts } from "../budgets/budgets";
import type { Deps } from "../context";
import { LATEST_MIGRATION } from "../db/migrations";
import { AppError } from "../lib/errors";
import { errorText } from "../lib/logger";

export interface HealthChecks {
  d1: "ok";
  schema: "ok";
  kv: "ok";
  /** 429s this isolate has answered, per budget (a count, not a check: it never fails). */
  rate_limited: RefusalCounts;
}

function unavailable(
  deps: Deps,
  check: "d1" | "schema" | "kv",
  detail: string,
  fields: Record<string, unknown>,
): never {
  deps.logger.error("deep health check failed", { check, ...fields });
  throw new AppError("unavailable", detail);
}

/**
 * `/health?deep=1`: one D1 query that both reaches the database and finds the latest migration
 * this code expects recorded in `d1_migrations`, then one KV read. A database that answers but
 * is not migrated is not healthy — every API call would fail with "no such table" — so it is a
 * 503 like an unreachable one. The cause goes to the log, not to the (public) response. Beside
 * the checks, the 429s this isolate answered (budgets are abuse signals worth watching).
 */
export async function deepHealth(deps: Deps): Promise<HealthChecks> {
  let applied: unknown = null;
  try {
    applied = await deps.env.DB.prepare("select name from d1_migrations where name = ?").bind(LATEST_MIGRATION).first();
  } catch (err) {
    const error = errorText(err);
    if (!error.includes("no such table")) unavailable(deps, "d1", "The database is unavailable", { error });
  }
  if (!applied) {
    unavailable(deps, "schema", "The database schema is not up to date", { expected_migration: LATEST_MIGRATION });
  }
  try {
    await deps.kv.get("health:probe");
  } catch (err) {
    unavailable(deps, "kv", "The cache is unavailable", { error: errorText(err) });
  }
  return { d1: "ok", schema: "ok", kv: "ok", rate_limited: refusalCounts(deps.now) };
}
