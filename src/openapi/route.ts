import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { type Access, describeAccess } from "../auth/access";
import { CONSISTENCY_HEADER, CONSISTENCY_TOKEN_PATTERN } from "../db/sessions";
import type { ErrorType } from "../lib/errors";
import { authorize } from "../middleware/authorize";
import { errorResponses } from "./errors";

export interface ApiRouteConfig extends Omit<RouteConfig, "middleware"> {
  /** Who may call, enforced by {@link authorize} and shown in the document. */
  access: Access;
  /** The error types this route answers beyond those every route of its shape answers. */
  errors?: readonly ErrorType[];
}

const REQUEST_ID_HEADER = {
  "x-request-id": {
    description: "The request's id (a well-formed incoming one is kept); quoted in logs and 500 bodies",
    schema: { type: "string" },
  },
} as const;

const NO_QUERY = z.strictObject({});

const TOKEN_FORMAT = "`<shard>:<bookmark>`, e.g. `SHARD_1:00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683`";

/** Every successful write answers the token of what it wrote (read-your-writes). */
const CONSISTENCY_RESPONSE_HEADER = {
  [CONSISTENCY_HEADER]: {
    description: `Where this write can be read back: send it as \`${CONSISTENCY_HEADER}\` on a later read, which is then answered from a database replica at least this fresh. ${TOKEN_FORMAT}.`,
    schema: { type: "string", pattern: CONSISTENCY_TOKEN_PATTERN },
  },
} as const;

/** Every authenticated read takes one back. */
const ConsistencyRequestHeaders = z.object({
  [CONSISTENCY_HEADER]: z
    .string()
    .regex(new RegExp(CONSISTENCY_TOKEN_PATTERN), "is not a consistency token")
    .optional()
    .openapi({
      description: `The \`${CONSISTENCY_HEADER}\` of an earlier write: this read sees that write (and everything before it on that shard). Optional; a token of another shard is ignored. ${TOKEN_FORMAT}.`,
    }),
});

/** The error types a route answers because of its shape: token, validation (every route has a query), body. */
function implicitErrors(config: ApiRouteConfig): ErrorType[] {
  const types: ErrorType[] = ["internal_error", "config_error"];
  // Every authenticated route reads D1; its reads are retried, then answered 503.
  if (!("public" in config.access)) types.push("unauthorized", "forbidden", "unavailable");
  const req = config.request;
  types.push("validation_error");
  if (req?.body) types.push("bad_request", "payload_too_large");
  return types;
}

/**
 * A route declared once: path, access, request and response schemas. `createRoute` turns it into
 * the validators and the OpenAPI operation; this adds the authorization middleware, every error
 * response the route can answer (with its body), the `x-request-id` header and the access line.
 */
export function apiRoute<const R extends ApiRouteConfig>(config: R) {
  const { access, errors = [], ...route } = config;
  const responses: Record<string, unknown> = {
    ...route.responses,
    ...errorResponses([...implicitErrors(config), ...errors]),
  };
  const authenticated = !("public" in access);
  const write = route.method !== "get" && route.method !== "head";
  for (const [status, response] of Object.entries(responses)) {
    const r = response as { headers?: Record<string, unknown> };
    const success = status.startsWith("2");
    const token = authenticated && write && success ? CONSISTENCY_RESPONSE_HEADER : {};
    responses[status] = { ...r, headers: { ...REQUEST_ID_HEADER, ...token, ...r.headers } };
  }
  const accessLine = describeAccess(access);
  // A route without query parameters still refuses unknown ones: a typo is never ignored.
  const own = route.request?.headers;
  const request = {
    ...route.request,
    query: route.request?.query ?? NO_QUERY,
    ...(authenticated && !write
      ? {
          headers: own instanceof z.ZodObject ? own.extend(ConsistencyRequestHeaders.shape) : ConsistencyRequestHeaders,
        }
      : {}),
  };
  return createRoute({
    ...route,
    request,
    responses: responses as R["responses"],
    description: [route.description, `**Access:** ${accessLine}`].filter(Boolean).join("\n\n"),
    "x-access": "public" in access ? { public: true } : { callers: access.callers, scope: access.scope },
    ...("public" in access ? { security: [] } : {}),
    middleware: [authorize(access)] as const,
  } as Omit<R, "access" | "errors"> & { middleware: [ReturnType<typeof authorize>] });
}
