import { OpenAPIHono } from "@hono/zod-openapi";
import { IdParamSchema } from "../http/common.schemas";
import { jsonBody, jsonContent } from "../http/openapi-content";
import { apiRoute } from "../http/route";
import { ADMINS } from "../identity/access";
import type { AppEnv } from "../platform/context";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  testWebhook,
  updateWebhook,
} from "./subscriptions";
import {
  DeliveryPageSchema,
  DeliveryQuerySchema,
  WebhookCreatedSchema,
  WebhookCreateSchema,
  WebhookEventSchema,
  WebhookListQuerySchema,
  WebhookSchema,
  WebhookUpdateSchema,
} from "./webhooks.schemas";

const tags = ["Webhooks"];
const access = { callers: ADMINS, scope: ["makerspace"] } as const;
const SIGNING =
  "Deliveries are signed as Standard Webhooks does (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…`), sent from the queue, retried with backoff for 24 h on a non-2xx answer or no answer within 10 s; a webhook failing for 3 days is set `active: false`.";

const create = apiRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Subscribe a URL to events; the signing secret is in this answer only",
  description: SIGNING,
  access,
  request: { body: jsonBody(WebhookCreateSchema) },
  responses: { 201: jsonContent(WebhookCreatedSchema, "The webhook and its secret (shown once)") },
  errors: ["invalid_state"],
});

const list = apiRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List webhooks (never their secrets)",
  access,
  request: { query: WebhookListQuerySchema },
  responses: { 200: jsonContent(WebhookSchema.array(), "Webhooks, oldest first") },
});

const get = apiRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a webhook",
  access,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(WebhookSchema, "The webhook") },
  errors: ["webhook_not_found"],
});

const update = apiRoute({
  method: "put",
  path: "/{id}",
  tags,
  summary: "Change a webhook's url, events, active or description",
  access,
  request: { params: IdParamSchema, body: jsonBody(WebhookUpdateSchema) },
  responses: { 200: jsonContent(WebhookSchema, "The webhook") },
  errors: ["webhook_not_found"],
});

const remove = apiRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete a webhook",
  access,
  request: { params: IdParamSchema },
  responses: { 204: { description: "Deleted" } },
  errors: ["webhook_not_found"],
});

const deliveries = apiRoute({
  method: "get",
  path: "/{id}/deliveries",
  tags,
  summary: "Every delivery attempt, newest first, with cursor paging",
  access,
  request: { params: IdParamSchema, query: DeliveryQuerySchema },
  responses: { 200: jsonContent(DeliveryPageSchema, "A page of attempts") },
  errors: ["webhook_not_found"],
});

const test = apiRoute({
  method: "post",
  path: "/{id}/test",
  tags,
  summary: "Send a webhook.test event now (through the queue, also to an inactive webhook)",
  access,
  budget: "makerspace",
  request: { params: IdParamSchema },
  responses: { 202: jsonContent(WebhookEventSchema, "The event queued for delivery") },
  errors: ["webhook_not_found"],
});

/** Mounted at /api/v1/webhooks. */
export const webhookRoutes = new OpenAPIHono<AppEnv>()
  .openapi(create, async (c) =>
    c.json(await createWebhook(c.get("deps"), c.get("principal"), c.req.valid("json")), 201),
  )
  .openapi(list, async (c) => c.json(await listWebhooks(c.get("deps"), c.get("principal"), c.req.valid("query")), 200))
  .openapi(get, async (c) => c.json(await getWebhook(c.get("deps"), c.get("principal"), c.req.valid("param").id), 200))
  .openapi(update, async (c) =>
    c.json(await updateWebhook(c.get("deps"), c.get("principal"), c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(remove, async (c) => {
    await deleteWebhook(c.get("deps"), c.get("principal"), c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(deliveries, async (c) =>
    c.json(await listDeliveries(c.get("deps"), c.get("principal"), c.req.valid("param").id, c.req.valid("query")), 200),
  )
  .openapi(test, async (c) =>
    c.json(await testWebhook(c.get("deps"), c.get("principal"), c.req.valid("param").id), 202),
  );
