import { asc, isNull, sql } from "drizzle-orm";
import { expiringBySql, isInForce } from "../certifications/rules";
import { selectUserSkills } from "../certifications/store";
import type { Deps } from "../platform/context";
import { changesOf, insertFrom, valuesOf } from "../platform/db/client";
import { certificationReminders, userSkills, webhooks } from "../platform/db/schema";
import { newIdSql } from "../platform/ids";
import { sendAll } from "../platform/queue";
import { addDays, iso } from "../platform/time";
import type { WebhookEvent } from "../webhooks/events";
import { jobsFor, subscribersOf } from "../webhooks/fan-out";

/** `certification.expiring` is sent when a certification enters each of these windows. */
export const REMINDER_THRESHOLDS_DAYS = [30, 7, 1] as const;

export interface ReminderOptions {
  /** Markers written, then sent, per statement and per page. */
  pageSize?: number;
  /** Bounds one run's D1 queries and queue sends (Workers limit them per invocation). */
  maxPages?: number;
}

export interface ReminderSummary {
  /** Certifications that entered a window in this run. */
  marked: number;
  /** Reminders handed to the webhook queue (one per certification and window). */
  sent: number;
  /** Deliveries queued (one per reminder and subscribed webhook). */
  deliveries: number;
  /** True when the run stopped on its budget with reminders left (the next run goes on). */
  more: boolean;
}

/**
 * The daily run's `certification.expiring` reminders: once per certification and window, whatever
 * how often the cron runs. A certified, unexpired row whose `expires_at` is within 30 days gets a
 * marker for the narrowest window it is in (1, 7 or 30 days; one granted 5 days before expiry is
 * reminded at 7 and 1, never at 30); the marker's key (certification, window, `expires_at`) makes
 * a second run write nothing, and a renewal — a new `expires_at` — starts the windows afresh.
 * Only makerspaces with a webhook subscribed to `certification.expiring` are marked.
 *
 * Markers are written first and marked dispatched after their events are queued, so a run that
 * stops in between sends the same event ids again next time (receivers dedupe by `webhook-id`).
 */
export async function sendExpiryReminders(deps: Deps, opts: ReminderOptions = {}): Promise<ReminderSummary> {
  const { pageSize = 200, maxPages = 20 } = opts;
  const summary: ReminderSummary = { marked: 0, sent: 0, deliveries: 0, more: false };
  const now = iso(deps.now);
  const [t30, t7, t1] = REMINDER_THRESHOLDS_DAYS.map((d) => iso(addDays(deps.now, d))) as [string, string, string];
  const u = userSkills;
  const r = certificationReminders;
  const w = webhooks;
  const threshold = sql`case when ${u.expiresAt} <= ${t1} then 1 when ${u.expiresAt} <= ${t7} then 7 else 30 end`;

  let pages = 0;
  for (; pages < maxPages; pages += 1) {
    const inserted = await insertFrom(
      deps.db,
      r,
      {
        userSkillId: u.id,
        thresholdDays: threshold,
        expiresAt: u.expiresAt,
        makerspaceId: u.makerspaceId,
        eventId: newIdSql("evt", deps),
        createdAt: now,
        dispatchedAt: null,
      },
      sql`from ${u}
        where ${expiringBySql(now, t30)}
          and exists (select 1 from ${w}, json_each(${w.events}) e where ${w.makerspaceId} = ${u.makerspaceId}
            and ${w.active} = 1 and e.value = 'certification.expiring')
          and not exists (select 1 from ${r} where ${r.userSkillId} = ${u.id}
            and ${r.thresholdDays} = ${threshold} and ${r.expiresAt} = ${u.expiresAt})
        order by ${u.expiresAt} limit ${pageSize}`,
    ).onConflictDoNothing();
    const marked = changesOf(inserted);
    summary.marked += marked;
    if (marked < pageSize) break;
  }

  for (; pages < maxPages; pages += 1) {
    const pending = await deps.db
      .select()
      .from(certificationReminders)
      .where(isNull(certificationReminders.dispatchedAt))
      .orderBy(asc(certificationReminders.createdAt))
      .limit(pageSize)
      .all();
    if (pending.length === 0) return summary;
    const rows = await selectUserSkills(deps)
      .where(sql`${userSkills.id} in ${valuesOf(pending.map((p) => p.userSkillId))}`)
      .all();
    const current = new Map(rows.map((r) => [r.id, r]));
    // A certification renewed or revoked since it was marked is not reminded of this expiry.
    const events: WebhookEvent[] = pending.flatMap((p) => {
      const row = current.get(p.userSkillId);
      if (!row || !isInForce(row, now) || row.expires_at !== p.expiresAt) return [];
      return [
        {
          id: p.eventId,
          type: "certification.expiring" as const,
          created_at: p.createdAt,
          makerspace_id: p.makerspaceId,
          data: { ...row, threshold_days: p.thresholdDays },
        },
      ];
    });
    const jobs = jobsFor(events, await subscribersOf(deps, [...new Set(events.map((e) => e.makerspace_id))]), now);
    await sendAll(deps.env.WEBHOOK_QUEUE, jobs);
    await deps.db
      .update(r)
      .set({ dispatchedAt: now })
      .where(
        sql`${r.dispatchedAt} is null and (${r.userSkillId}, ${r.thresholdDays}, ${r.expiresAt}) in
          (select json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
             from json_each(${JSON.stringify(pending.map((p) => [p.userSkillId, p.thresholdDays, p.expiresAt]))}))`,
      );
    summary.sent += events.length;
    summary.deliveries += jobs.length;
    if (pending.length < pageSize) return summary;
  }
  return { ...summary, more: true };
}
