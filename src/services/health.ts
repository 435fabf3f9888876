import { droppedAuditEvents } from "../audit/producer";
import { type RefusalCounts, refusalCounts } from "../budgets/budgets";
import type { Deps } from "../context";
import { LATEST_MIGRATION } from "../db/migrations";
import { AppError } from "../lib/errors";
import { errorText } from "../lib/logger";

/** An outbox event older than this means delivery is stuck (the relay re-sends after 2 minutes). */
export const OUTBOX_STALE_SECONDS = 600;

export interface AuditBacklog {
  outbox: { pending: number; oldest_age_s: number };
  dead_letters: number;
}

export interface DeepHealth {
  status: "ok" | "degraded";
  checks: AuditBacklog & {
    d1: "ok";
    schema: "ok";
    kv: "ok";
    /** Verify events this isolate could neither send nor write since it started (each logged). */
    audit_events_lost: number;
    /** 429s this isolate has answered, per budget (a count, not a check: it never fails). */
    rate_limited: RefusalCounts;
  };
}

function unavailable(deps: Deps, check: string, detail: string, fields: Record<string, unknown>): never {
  deps.logger.error("deep health check failed", { check, ...fields });
  throw new AppError("unavailable", detail);
}

/** `degraded` (still served with 200) when delivery is stuck or events were given up on. */
export function backlogStatus(backlog: AuditBacklog): "ok" | "degraded" {
  return backlog.outbox.oldest_age_s > OUTBOX_STALE_SECONDS || backlog.dead_letters > 0 ? "degraded" : "ok";
}

/**
 * `/health?deep=1`, in one D1 batch and one KV read: D1 answers and has the latest migration this
 * code expects (a database that answers but is not migrated would fail every API call with "no
 * such table", so it is a 503 like an unreachable one), KV answers, and the audit pipeline is not
 * stuck (`degraded`, still 200). Causes go to the log, not to the (public) response. Beside the
 * checks, the 429s this isolate answered (budgets are abuse signals worth watching).
 */
export async function deepHealth(deps: Deps): Promise<DeepHealth> {
  const d1 = deps.env.DB;
  let rows: D1Result<Record<string, unknown>>[] = [];
  try {
    rows = await d1.batch([
      d1.prepare("select name from d1_migrations where name = ?").bind(LATEST_MIGRATION),
      d1.prepare("select count(*) as pending, min(created_at) as oldest from audit_outbox"),
      d1.prepare("select count(*) as n from audit_dead_letters"),
    ]);
  } catch (err) {
    const error = errorText(err);
    if (!error.includes("no such table")) unavailable(deps, "d1", "The database is unavailable", { error });
  }
  if (!rows[0]?.results[0]) {
    unavailable(deps, "schema", "The database schema is not up to date", { expected_migration: LATEST_MIGRATION });
  }
  try {
    await deps.kv.get("health:probe");
  } catch (err) {
    unavailable(deps, "kv", "The cache is unavailable", { error: errorText(err) });
  }
  const outbox = rows[1]?.results[0] as { pending: number; oldest: string | null } | undefined;
  const ageMs = outbox?.oldest ? deps.now.getTime() - Date.parse(outbox.oldest) : 0;
  const backlog: AuditBacklog = {
    outbox: { pending: outbox?.pending ?? 0, oldest_age_s: Math.max(0, Math.floor(ageMs / 1000)) },
    dead_letters: Number(rows[2]?.results[0]?.n ?? 0),
  };
  return {
    status: backlogStatus(backlog),
    checks: {
      d1: "ok",
      schema: "ok",
      kv: "ok",
      ...backlog,
      audit_events_lost: droppedAuditEvents(),
      rate_limited: refusalCounts(deps.now),
    },
  };
}
