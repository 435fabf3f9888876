import { and, eq, sql } from "drizzle-orm";
import type { AuditEvent } from "../audit/events";
import { selectRequests } from "../certifications/requests";
import { selectUserSkills } from "../certifications/store";
import type { Deps } from "../platform/context";
import { valuesOf } from "../platform/db/client";
import { skillRequests, userSkills, webhooks } from "../platform/db/schema";
import { iso } from "../platform/time";
import { EVENT_OF_ACTION, jobFor, type SubscribableEvent, type WebhookEvent, type WebhookJob } from "./events";

interface Subscriber {
  id: string;
  events: string[];
  createdAt: string;
}

/** The active webhooks of these makerspaces, by makerspace (one query). */
export async function subscribersOf(deps: Deps, makerspaceIds: string[]): Promise<Map<string, Subscriber[]>> {
  const out = new Map<string, Subscriber[]>();
  if (makerspaceIds.length === 0) return out;
  const rows = await deps.db
    .select({
      id: webhooks.id,
      makerspaceId: webhooks.makerspaceId,
      events: webhooks.events,
      createdAt: webhooks.createdAt,
    })
    .from(webhooks)
    .where(and(eq(webhooks.active, true), sql`${webhooks.makerspaceId} in ${valuesOf([...new Set(makerspaceIds)])}`))
    .all();
  for (const r of rows) {
    out.set(r.makerspaceId, [
      ...(out.get(r.makerspaceId) ?? []),
      { id: r.id, events: JSON.parse(r.events) as string[], createdAt: r.createdAt },
    ]);
  }
  return out;
}

/** Does this webhook want this event: subscribed to its type, and created before it happened? */
function wants(s: Subscriber, type: string, createdAt: string): boolean {
  return s.events.includes(type) && s.createdAt <= createdAt;
}

/**
 * One job per event and subscribed webhook. A webhook hears only of what happens after it is
 * created, though the queue may bring an older event to the fan-out after it.
 */
export function jobsFor(
  events: WebhookEvent[],
  subscribers: Map<string, Subscriber[]>,
  enqueuedAt: string,
): WebhookJob[] {
  return events.flatMap((event) =>
    (subscribers.get(event.makerspace_id) ?? [])
      .filter((s) => wants(s, event.type, event.created_at))
      .map((s) => jobFor(s.id, event, enqueuedAt)),
  );
}

/**
 * The webhook deliveries of a batch of audit events: the events a webhook subscribes to, each with
 * `data` as the API returns the resource — read now, a few seconds after the change (a later
 * change may already show; the event's type says what happened). Costs one query when no webhook
 * of the batch's makerspaces listens, and at most three when some do.
 */
export async function webhookJobsFor(deps: Deps, events: AuditEvent[]): Promise<WebhookJob[]> {
  const mapped = events.flatMap((e) => {
    const type = EVENT_OF_ACTION[e.action];
    return type ? [{ audit: e, type }] : [];
  });
  if (mapped.length === 0) return [];
  const subscribers = await subscribersOf(
    deps,
    mapped.map((m) => m.audit.makerspace_id),
  );
  const wanted = mapped.filter((m) =>
    subscribers.get(m.audit.makerspace_id)?.some((s) => wants(s, m.type, m.audit.created_at)),
  );
  if (wanted.length === 0) return [];

  const certificationIds = wanted.flatMap((m) => idIn(m.audit, "user_skill_id", m.type.startsWith("certification.")));
  const requestIds = wanted.flatMap((m) => idIn(m.audit, "request_id", m.type.startsWith("request.")));
  const [certifications, requests] = await Promise.all([
    certificationIds.length > 0
      ? selectUserSkills(deps)
          .where(sql`${userSkills.id} in ${valuesOf(certificationIds)}`)
          .all()
      : [],
    requestIds.length > 0
      ? selectRequests(deps)
          .where(sql`${skillRequests.id} in ${valuesOf(requestIds)}`)
          .all()
      : [],
  ]);
  const resources = new Map<string, Record<string, unknown>>([
    ...certifications.map((c) => [c.id, c] as const),
    ...requests.map((r) => [r.id, r] as const),
  ]);
  const webhookEvents = wanted.map(({ audit, type }) => ({
    id: audit.id,
    type,
    created_at: audit.created_at,
    makerspace_id: audit.makerspace_id,
    data: dataOf(audit, type, resources),
  }));
  return jobsFor(webhookEvents, subscribers, iso(deps.now));
}

function idIn(event: AuditEvent, key: string, applies: boolean): string[] {
  const value = event.metadata[key];
  return applies && typeof value === "string" ? [value] : [];
}

/** The resource as the API returns it; for a denied verify, the denial as the door was answered. */
function dataOf(event: AuditEvent, type: SubscribableEvent, resources: Map<string, Record<string, unknown>>) {
  const m = event.metadata;
  if (type === "access.denied") {
    return {
      equipment_id: m.equipment_id ?? null,
      user_id: event.user_id,
      can_access: false,
      missing_skills: m.missing_skills ?? [],
      reason: event.reason,
      denial: m.denial ?? null,
      performed_by: event.performed_by,
    };
  }
  const id = type.startsWith("request.") ? m.request_id : m.user_skill_id;
  const resource = typeof id === "string" ? resources.get(id) : undefined;
  // A row that cannot be read back (never expected) still says who and what.
  return (
    resource ?? { id: id ?? null, user_id: event.user_id, skill_id: event.skill_id, makerspace_id: event.makerspace_id }
  );
}

/** The makerspaces where an active webhook subscribes to `type` (one query). */
export async function listeningMakerspaces(deps: Pick<Deps, "db">, type: SubscribableEvent): Promise<string[]> {
  const rows = await deps.db
    .selectDistinct({ makerspaceId: webhooks.makerspaceId })
    .from(webhooks)
    .where(
      and(
        eq(webhooks.active, true),
        sql`exists (select 1 from json_each(${webhooks.events}) e where e.value = ${type})`,
      ),
    )
    .all();
  return rows.map((r) => r.makerspaceId);
}
