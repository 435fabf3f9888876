import { and, asc, eq, gt, lte, or, sql } from "drizzle-orm";
import type { Deps } from "../context";
import { valuesOf } from "../db/client";
import { auditOutbox } from "../db/schema";
import { errorText } from "../lib/logger";
import { addSeconds, iso } from "../lib/time";
import { type AuditEvent, AuditEventSchema } from "./events";
import { sendEvents } from "./producer";

export interface RelayOptions {
  /** Rows younger than this are probably still on their way from the request that wrote them. */
  minAgeSeconds?: number;
  pageSize?: number;
  /** Bounds one run's D1 queries and Queue sends (Workers limits them per invocation). */
  maxPages?: number;
}

export interface RelaySummary {
  relayed: number;
  unreadable: number;
  /** True when the run stopped with rows left (send failure or page budget). */
  more: boolean;
}

/**
 * Re-sends outbox rows that no consumer has cleared: their send failed, or the Worker stopped
 * between the commit and the send. Each row's `attempts` is counted before its send. A row is
 * sent at most once per run (keyset paging), and a redelivery that races the first one is
 * harmless because the consumer writes by event id.
 */
export async function relayOutbox(deps: Deps, opts: RelayOptions = {}): Promise<RelaySummary> {
  const { minAgeSeconds = 120, pageSize = 100, maxPages = 10 } = opts;
  const cutoff = iso(addSeconds(deps.now, -minAgeSeconds));
  const summary: RelaySummary = { relayed: 0, unreadable: 0, more: false };
  let after: { createdAt: string; id: string } | undefined;

  for (let page = 0; page < maxPages; page += 1) {
    const rows = await deps.db
      .select({ id: auditOutbox.id, payload: auditOutbox.payload, createdAt: auditOutbox.createdAt })
      .from(auditOutbox)
      .where(
        and(
          lte(auditOutbox.createdAt, cutoff),
          after
            ? or(
                gt(auditOutbox.createdAt, after.createdAt),
                and(eq(auditOutbox.createdAt, after.createdAt), gt(auditOutbox.id, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(auditOutbox.createdAt), asc(auditOutbox.id))
      .limit(pageSize)
      .all();
    if (rows.length === 0) return summary;

    const events: AuditEvent[] = [];
    for (const row of rows) {
      const event = parsePayload(row.payload);
      if (event) events.push(event);
      else {
        summary.unreadable += 1;
        deps.logger.error("unreadable audit outbox row left in place", { outbox_id: row.id });
      }
    }
    await deps.db
      .update(auditOutbox)
      .set({ attempts: sql`${auditOutbox.attempts} + 1` })
      .where(sql`${auditOutbox.id} in ${valuesOf(rows.map((r) => r.id))}`)
      .run();
    try {
      await sendEvents(deps.env.AUDIT_QUEUE, events);
    } catch (err) {
      deps.logger.warn("audit relay send failed; rows stay for the next run", {
        events: events.length,
        error: errorText(err),
      });
      return { ...summary, more: true };
    }
    summary.relayed += events.length;
    const last = rows[rows.length - 1] as (typeof rows)[number];
    after = { createdAt: last.createdAt, id: last.id };
    if (rows.length < pageSize) return summary;
  }
  return { ...summary, more: true };
}

function parsePayload(payload: string): AuditEvent | null {
  try {
    const parsed = AuditEventSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
