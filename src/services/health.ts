import { count, min, sql } from "drizzle-orm";
import { droppedAuditEvents } from "../audit/producer";
import type { Deps } from "../context";
import { auditDeadLetters, auditOutbox } from "../db/schema";
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
    kv: "ok";
    /** Verify events this isolate could neither send nor write since it started (each logged). */
    audit_events_lost: number;
  };
}

/**
 * The audit pipeline's backlog, in one D1 round trip: events waiting in the outbox (and the age of
 * the oldest, 0 when none) and events the relay gave up on.
 */
export async function auditBacklog(deps: Pick<Deps, "db" | "now">): Promise<AuditBacklog> {
  const [outbox, deadLetters] = await deps.db.batch([
    deps.db.select({ pending: count(), oldest: min(auditOutbox.createdAt) }).from(auditOutbox),
    deps.db.select({ n: count() }).from(auditDeadLetters),
  ]);
  const oldest = outbox[0]?.oldest;
  const ageMs = oldest ? deps.now.getTime() - Date.parse(oldest) : 0;
  return {
    outbox: { pending: outbox[0]?.pending ?? 0, oldest_age_s: Math.max(0, Math.floor(ageMs / 1000)) },
    dead_letters: deadLetters[0]?.n ?? 0,
  };
}

/** `degraded` (still served with 200) when delivery is stuck or events were given up on. */
export function backlogStatus(backlog: AuditBacklog): "ok" | "degraded" {
  return backlog.outbox.oldest_age_s > OUTBOX_STALE_SECONDS || backlog.dead_letters > 0 ? "degraded" : "ok";
}

/** `/health?deep=1`: D1 and KV answer, and the audit pipeline is not stuck. */
export async function deepHealth(deps: Deps): Promise<DeepHealth> {
  let backlog: AuditBacklog;
  try {
    await deps.db.run(sql`select 1`);
    await deps.kv.get("health:probe");
    backlog = await auditBacklog(deps);
  } catch (err) {
    deps.logger.error("deep health check failed", { error: errorText(err) });
    throw new AppError("internal_error", "A dependency is unavailable", { request_id: deps.requestId });
  }
  return {
    status: backlogStatus(backlog),
    checks: { d1: "ok", kv: "ok", ...backlog, audit_events_lost: droppedAuditEvents() },
  };
}
