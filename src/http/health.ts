import { count, eq, min } from "drizzle-orm";
import { droppedAuditEvents } from "../audit/producer";
import type { Deps } from "../platform/context";
import { createDb, runBatch } from "../platform/db/client";
import { d1Migrations, LATEST_MIGRATION } from "../platform/db/migrations";
import { auditDeadLetters, auditOutbox } from "../platform/db/schema";
import { shardBinding, shardNames } from "../platform/db/shards";
import { AppError } from "../platform/errors";
import { errorText } from "../platform/logger";
import { type RefusalCounts, refusalCounts } from "./budgets-policy";

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
    /** Every shard by binding name (each answered and is migrated; any other outcome is a 503). */
    shards: Record<string, "ok">;
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

/** One database's answer: its audit backlog (a shard's), or why it is not ready. */
type DatabaseState =
  | { ok: true; pending: number; oldest: string | null; deadLetters: number }
  | { ok: false; check: "d1" | "schema"; database: string; error?: string };

/**
 * One round trip to one database: the migration this code expects (a database that answers but
 * is not migrated would fail every API call with "no such table", so it is a 503 like an
 * unreachable one) and, for a shard, its outbox and dead letters.
 */
async function checkDatabase(name: string, d1: D1Database, shard: boolean): Promise<DatabaseState> {
  let rows: unknown[][] = [];
  try {
    const db = createDb(d1);
    const migration = db
      .select({ name: d1Migrations.name })
      .from(d1Migrations)
      .where(eq(d1Migrations.name, LATEST_MIGRATION));
    rows = (await runBatch(
      db,
      shard
        ? [
            migration,
            db.select({ pending: count(), oldest: min(auditOutbox.createdAt) }).from(auditOutbox),
            db.select({ n: count() }).from(auditDeadLetters),
          ]
        : [migration],
    )) as unknown[][];
  } catch (err) {
    const error = errorText(err);
    if (!error.includes("no such table")) return { ok: false, check: "d1", database: name, error };
  }
  if (!rows[0]?.[0]) return { ok: false, check: "schema", database: name };
  const outbox = rows[1]?.[0] as { pending: number; oldest: string | null } | undefined;
  return {
    ok: true,
    pending: outbox?.pending ?? 0,
    oldest: outbox?.oldest ?? null,
    deadLetters: Number((rows[2]?.[0] as { n: number } | undefined)?.n ?? 0),
  };
}

/**
 * `/health?deep=1`: the directory and every shard in parallel, one D1 round trip each, and one KV
 * read. Each database must answer and hold the latest migration; the audit backlog is summed
 * over the shards (the oldest outbox event of any). Causes go to the log, with the database's
 * binding name, not to the (public) response. Beside the checks, the 429s this isolate answered
 * (budgets are abuse signals worth watching).
 */
export async function deepHealth(deps: Deps): Promise<DeepHealth> {
  const names = shardNames(deps.env);
  const checked = await Promise.all([
    checkDatabase("DIRECTORY", deps.env.DIRECTORY, false),
    ...names.map((name) => checkDatabase(name, shardBinding(deps.env, name), true)),
  ]);
  const failed = checked.filter((c) => !c.ok);
  const down = failed.filter((c) => c.check === "d1");
  if (down.length > 0) {
    unavailable(deps, "d1", "The database is unavailable", {
      databases: down.map((c) => c.database),
      error: down[0]?.error,
    });
  }
  if (failed.length > 0) {
    unavailable(deps, "schema", "The database schema is not up to date", {
      databases: failed.map((c) => c.database),
      expected_migration: LATEST_MIGRATION,
    });
  }
  const states = checked.slice(1).filter((c) => c.ok);
  try {
    await deps.kv.get("health:probe");
  } catch (err) {
    unavailable(deps, "kv", "The cache is unavailable", { error: errorText(err) });
  }
  const oldest = states.reduce<string | null>(
    (min, s) => (s.oldest && (!min || s.oldest < min) ? s.oldest : min),
    null,
  );
  const ageMs = oldest ? deps.now.getTime() - Date.parse(oldest) : 0;
  const backlog: AuditBacklog = {
    outbox: {
      pending: states.reduce((n, s) => n + s.pending, 0),
      oldest_age_s: Math.max(0, Math.floor(ageMs / 1000)),
    },
    dead_letters: states.reduce((n, s) => n + s.deadLetters, 0),
  };
  return {
    status: backlogStatus(backlog),
    checks: {
      d1: "ok",
      schema: "ok",
      kv: "ok",
      shards: Object.fromEntries(names.map((name) => [name, "ok" as const])),
      ...backlog,
      audit_events_lost: droppedAuditEvents(),
      rate_limited: refusalCounts(deps.now),
    },
  };
}
