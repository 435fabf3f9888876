import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { type Access, describeAccess } from "../auth/access";
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
  for (const [status, response] of Object.entries(responses)) {
    const r = response as { headers?: Record<string, unknown> };
    responses[status] = { ...r, headers: { ...REQUEST_ID_HEADER, ...r.headers } };
  }
  const accessLine = describeAccess(access);
  // A route without query parameters still refuses unknown ones: a typo is never ignored.
  const request = { ...route.request, query: route.request?.query ?? NO_QUERY };
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
