import { and, asc, desc, eq, type SQL, sql } from "drizzle-orm";
import { newEvent } from "../audit/events";
import { decodeCursor, encodeCursor } from "../audit/log";
import { guardedOutboxStatement, publishCommitted } from "../audit/producer";
import { scopeMakerspace, visibleOr404 } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { changesOf, insertWhere, pastPosition, runBatch } from "../platform/db/client";
import { type WebhookDeliveryRow, type WebhookRow, webhookDeliveries, webhooks } from "../platform/db/schema";
import { AppError, validationError } from "../platform/errors";
import { newId } from "../platform/ids";
import { iso } from "../platform/time";
import { jobFor, type SubscribableEvent, type WebhookEvent } from "./events";
import { sealSecret } from "./secret-box";
import { generateWebhookSecret } from "./signature";
import { checkWebhookUrl } from "./url-guard";
import {
  type Delivery,
  type DeliveryPage,
  type DeliveryQuery,
  MAX_WEBHOOKS_PER_MAKERSPACE,
  type Webhook,
  type WebhookCreate,
  type WebhookListQuery,
  type WebhookUpdate,
} from "./webhooks.schemas";

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    makerspace_id: row.makerspaceId,
    url: row.url,
    events: JSON.parse(row.events) as SubscribableEvent[],
    description: row.description,
    active: row.active,
    failing_since: row.failingSince,
    created_by: row.createdBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** The URL as it will be called, or 422 on `url` (checked again before every delivery). */
function allowedUrl(deps: Deps, url: string): string {
  const verdict = checkWebhookUrl(url, deps.config.ALLOW_UNREGISTERED_DEVICES);
  if (!verdict.ok) throw validationError([{ path: "url", message: verdict.reason }]);
  return verdict.url;
}

/** Audit metadata: the host only — a URL's path or query may hold the receiver's own token. */
function auditFields(row: Pick<WebhookRow, "id" | "url" | "events">) {
  return { webhook_id: row.id, host: new URL(row.url).host, events: JSON.parse(row.events) as string[] };
}

async function visibleWebhook(deps: Deps, actor: Principal, id: string): Promise<WebhookRow> {
  const row = await deps.db.select().from(webhooks).where(eq(webhooks.id, id)).get();
  return visibleOr404(actor, row, "webhook_not_found", "Webhook not found");
}

/**
 * POST /webhooks: 201 `{ webhook, secret }`. The secret is made here, returned this once and kept
 * only sealed (src/webhooks/secret-box.ts). At most 20 webhooks per makerspace, enforced by the
 * insert itself so concurrent creations cannot pass it.
 */
export async function createWebhook(
  deps: Deps,
  actor: Principal,
  body: WebhookCreate,
): Promise<{ webhook: Webhook; secret: string }> {
  const url = allowedUrl(deps, body.url);
  const id = newId("wh", deps);
  const secret = generateWebhookSecret();
  const at = iso(deps.now);
  const row: WebhookRow = {
    id,
    makerspaceId: body.makerspace_id,
    url,
    events: JSON.stringify(body.events),
    description: body.description ?? null,
    active: true,
    secretCiphertext: await sealSecret(deps.config.WEBHOOK_ENCRYPTION_KEY, id, secret),
    failingSince: null,
    createdBy: actor.sub,
    createdAt: at,
    updatedAt: at,
  };
  const event = newEvent(deps, {
    action: "webhook_created",
    makerspaceId: row.makerspaceId,
    performedBy: actor.sub,
    reason: row.description,
    metadata: auditFields(row),
  });
  const room = sql`(select count(*) from ${webhooks} where ${webhooks.makerspaceId} = ${row.makerspaceId}) < ${MAX_WEBHOOKS_PER_MAKERSPACE}`;
  const results = await runBatch(deps.db, [
    insertWhere(deps.db, webhooks, { ...row, active: 1 }, room),
    guardedOutboxStatement(deps.db, event, sql`exists (select 1 from ${webhooks} where ${webhooks.id} = ${id})`),
  ]);
  if (changesOf(results[0]) !== 1) {
    throw new AppError("invalid_state", `A makerspace has at most ${MAX_WEBHOOKS_PER_MAKERSPACE} webhooks`);
  }
  publishCommitted(deps, [event]);
  return { webhook: toWebhook(row), secret };
}

export async function listWebhooks(deps: Deps, actor: Principal, q: WebhookListQuery): Promise<Webhook[]> {
  const makerspaceId = scopeMakerspace(actor, q.makerspace_id);
  const where: SQL[] = [];
  if (makerspaceId) where.push(eq(webhooks.makerspaceId, makerspaceId));
  if (q.active !== undefined) where.push(eq(webhooks.active, q.active));
  const rows = await deps.db
    .select()
    .from(webhooks)
    .where(and(...where))
    .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
    .limit(q.limit)
    .offset(q.offset)
    .all();
  return rows.map(toWebhook);
}

export async function getWebhook(deps: Deps, actor: Principal, id: string): Promise<Webhook> {
  return toWebhook(await visibleWebhook(deps, actor, id));
}

/** PUT /webhooks/{id}: url, events, active, description. Re-activating restarts the failure clock. */
export async function updateWebhook(deps: Deps, actor: Principal, id: string, body: WebhookUpdate): Promise<Webhook> {
  const current = await visibleWebhook(deps, actor, id);
  const at = iso(deps.now);
  const next: WebhookRow = {
    ...current,
    url: body.url !== undefined ? allowedUrl(deps, body.url) : current.url,
    events: body.events !== undefined ? JSON.stringify(body.events) : current.events,
    description: body.description !== undefined ? body.description : current.description,
    active: body.active ?? current.active,
    failingSince: body.active === true ? null : current.failingSince,
    updatedAt: at,
  };
  const event = newEvent(deps, {
    action: "webhook_updated",
    makerspaceId: current.makerspaceId,
    performedBy: actor.sub,
    metadata: { ...auditFields(next), changed: Object.keys(body).sort(), active: next.active },
  });
  const exists = sql`exists (select 1 from ${webhooks} where ${webhooks.id} = ${id})`;
  const results = await runBatch(deps.db, [
    guardedOutboxStatement(deps.db, event, exists),
    deps.db
      .update(webhooks)
      .set({
        url: next.url,
        events: next.events,
        description: next.description,
        active: next.active,
        failingSince: next.failingSince,
        updatedAt: at,
      })
      .where(eq(webhooks.id, id)),
  ]);
  if (changesOf(results[1]) !== 1) throw new AppError("webhook_not_found", "Webhook not found");
  publishCommitted(deps, [event]);
  return toWebhook(next);
}

/** DELETE /webhooks/{id}: 204. Deliveries still queued for it are dropped when they come up. */
export async function deleteWebhook(deps: Deps, actor: Principal, id: string): Promise<void> {
  const current = await visibleWebhook(deps, actor, id);
  const event = newEvent(deps, {
    action: "webhook_deleted",
    makerspaceId: current.makerspaceId,
    performedBy: actor.sub,
    metadata: auditFields(current),
  });
  const results = await runBatch(deps.db, [
    guardedOutboxStatement(deps.db, event, sql`exists (select 1 from ${webhooks} where ${webhooks.id} = ${id})`),
    deps.db.delete(webhooks).where(eq(webhooks.id, id)),
  ]);
  if (changesOf(results[1]) !== 1) throw new AppError("webhook_not_found", "Webhook not found");
  publishCommitted(deps, [event]);
}

function toDelivery(row: WebhookDeliveryRow): Delivery {
  return {
    id: row.id,
    event_id: row.eventId,
    event_type: row.eventType as Delivery["event_type"],
    attempt: row.attempt,
    status_code: row.statusCode,
    error: row.error,
    duration_ms: row.durationMs,
    delivered_at: row.deliveredAt,
    next_attempt_at: row.nextAttemptAt,
  };
}

/** GET /webhooks/{id}/deliveries: every attempt, newest first, keyset pages. */
export async function listDeliveries(
  deps: Deps,
  actor: Principal,
  id: string,
  q: DeliveryQuery,
): Promise<DeliveryPage> {
  await visibleWebhook(deps, actor, id);
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const rows = await deps.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, id),
        pastPosition(webhookDeliveries.deliveredAt, webhookDeliveries.id, after, "desc"),
      ),
    )
    .orderBy(desc(webhookDeliveries.deliveredAt), desc(webhookDeliveries.id))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toDelivery),
    next_cursor: rows.length > q.limit && last ? encodeCursor({ createdAt: last.deliveredAt, id: last.id }) : null,
  };
}

/**
 * POST /webhooks/{id}/test: a `webhook.test` event queued for this webhook now (202), delivered
 * by the queue like any other — also to an inactive webhook, to check an endpoint before
 * re-enabling it.
 */
export async function testWebhook(deps: Deps, actor: Principal, id: string): Promise<WebhookEvent> {
  const hook = await visibleWebhook(deps, actor, id);
  const event: WebhookEvent = {
    id: newId("evt", deps),
    type: "webhook.test",
    created_at: iso(deps.now),
    makerspace_id: hook.makerspaceId,
    data: { webhook_id: hook.id, message: "A test event from MakrCave", requested_by: actor.sub },
  };
  await deps.env.WEBHOOK_QUEUE.send(jobFor(hook.id, event, event.created_at, true), { contentType: "json" });
  return event;
}
