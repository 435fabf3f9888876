import type { OpenAPIHono, RouteConfig, z } from "@hono/zod-openapi";
import type { Access } from "../identity/access";

/** A route as the app declares it: what `npm run routes`, the docs and the fuzz tests read. */
export interface DeclaredRoute {
  method: string;
  /** OpenAPI template, e.g. `/api/v1/skills/{id}`. */
  path: string;
  summary: string;
  access: Access;
  /** The budgets an authenticated route counts against (`x-budgets`); none for a public route. */
  budgets?: DeclaredBudgets;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  bodyType?: string;
  /** Declared responses: status → the zod schema of a JSON body (undefined for other bodies). */
  responses: Record<string, z.ZodType | undefined>;
}

export interface DeclaredBudgets {
  budgets: string[];
  /** Registered device kinds not held to the caller budget on this route. */
  caller_exempt: string[];
}

interface RouteWithAccess extends RouteConfig {
  "x-access"?: Access;
  "x-budgets"?: DeclaredBudgets;
}

/** Every route registered on the app (and its mounted sub-apps), in registration order. */
export function declaredRoutes(app: Pick<OpenAPIHono, "openAPIRegistry">): DeclaredRoute[] {
  return app.openAPIRegistry.definitions.flatMap((d) => {
    if (d.type !== "route") return [];
    const route = d.route as RouteWithAccess;
    const content = route.request?.body?.content ?? {};
    const [bodyType, media] = Object.entries(content)[0] ?? [];
    return [
      {
        method: route.method.toUpperCase(),
        path: route.path.replace(/(.)\/+$/, "$1"),
        summary: route.summary ?? "",
        access: route["x-access"] ?? { public: true },
        budgets: route["x-budgets"],
        params: route.request?.params as z.ZodType | undefined,
        query: route.request?.query as z.ZodType | undefined,
        body: (media as { schema?: unknown } | undefined)?.schema as z.ZodType | undefined,
        bodyType,
        responses: Object.fromEntries(
          Object.entries(route.responses).map(([status, r]) => {
            const json = (r as { content?: Record<string, { schema?: unknown }> }).content?.["application/json"];
            return [status, json?.schema as z.ZodType | undefined];
          }),
        ),
      },
    ];
  });
}
