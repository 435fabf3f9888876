import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { type Access, describeAccess } from "../identity/access";
import type { DeviceKind } from "../identity/principal";
import { CONSISTENCY_HEADER, CONSISTENCY_TOKEN_PATTERN } from "../platform/db/sessions";
import type { ErrorType } from "../platform/errors";
import { authorize } from "./authorize";
import { callerBudget, type RouteBudget, routeBudget } from "./budgets";
import { errorResponses } from "./openapi-errors";

export interface ApiRouteConfig extends Omit<RouteConfig, "middleware"> {
  /** Who may call, enforced by {@link authorize} and shown in the document. */
  access: Access;
  /** The error types this route answers beyond those every route of its shape answers. */
  errors?: readonly ErrorType[];
  /**
   * A budget the route counts against besides the caller budget of every authenticated route
   * (src/http/budgets.ts): `makerspace` for imports, exports and webhook tests, `badge` for
   * routes whose body may name a `badge_uid`.
   */
  budget?: RouteBudget;
  /** Registered devices of these kinds are not held to the caller budget here (`verify`: doors, machines). */
  callerBudgetExempt?: readonly DeviceKind[];
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
  // Every authenticated route reads D1 (its reads are retried, then answered 503) and spends the
  // caller's budget (429).
  if (!("public" in config.access)) types.push("unauthorized", "forbidden", "unavailable", "rate_limited");
  const req = config.request;
  types.push("validation_error");
  if (req?.body) types.push("bad_request", "payload_too_large");
  return types;
}

/**
 * A route declared once: path, access, budgets, request and response schemas. `createRoute` turns
 * it into the validators and the OpenAPI operation; this adds the middleware — caller budget, then
 * authorization, then the route's own budget — every error response the route can answer (with its
 * body; 429 on every authenticated route), the `x-request-id` header and the access line.
 */
export function apiRoute<const R extends ApiRouteConfig>(config: R) {
  const { access, errors = [], budget, callerBudgetExempt = [], ...route } = config;
  const budgets = budgetsOf(config);
  const responses: Record<string, unknown> = {
    ...route.responses,
    ...errorResponses([...implicitErrors(config), ...errors]),
  };
  const authenticated = !("public" in access);
  // `verify` is a POST that writes nothing in the request (its event goes by queue): no token.
  const write = route.method !== "get" && route.method !== "head" && !route.path.endsWith("/verify");
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
    description: [route.description, `**Access:** ${accessLine}`, budgets && `**Budgets:** ${budgets}`]
      .filter(Boolean)
      .join("\n\n"),
    "x-access": "public" in access ? { public: true } : { callers: access.callers, scope: access.scope },
    ...("public" in access
      ? { security: [] }
      : { "x-budgets": { budgets: ["caller", ...(budget ? [budget] : [])], caller_exempt: callerBudgetExempt } }),
    middleware:
      "public" in access
        ? [authorize(access)]
        : [callerBudget(callerBudgetExempt), authorize(access), ...(budget ? [routeBudget(budget)] : [])],
  } as Omit<R, "access" | "errors" | "budget" | "callerBudgetExempt"> & { middleware: ReturnType<typeof authorize>[] });
}

/**
 * The budgets line of a route's description, when it has more than the caller budget every
 * authenticated route has (its 429 and `x-budgets` say that much); budgets never apply to a public route.
 */
function budgetsOf(config: ApiRouteConfig): string | undefined {
  if ("public" in config.access) {
    if (config.budget || config.callerBudgetExempt) throw new Error(`${config.path}: a public route has no budget`);
    return undefined;
  }
  if (!config.budget && !config.callerBudgetExempt?.length) return undefined;
  const exempt = config.callerBudgetExempt?.length
    ? ` (registered ${config.callerBudgetExempt.join(" and ")} devices are exempt)`
    : "";
  const own = {
    makerspace: "; makerspace (imports, exports and webhook tests of its makerspace)",
    badge: "; badge (card lookups of the device; an unknown card counts twice)",
  };
  return `caller${exempt}${config.budget ? own[config.budget] : ""}`;
}
