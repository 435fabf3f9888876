import type { OpenAPIHono, RouteConfig, z } from "@hono/zod-openapi";
import type { Access } from "../auth/access";

/** A route as the app declares it: what `npm run routes`, the docs and the fuzz tests read. */
export interface DeclaredRoute {
  method: string;
  /** OpenAPI template, e.g. `/api/v1/skills/{id}`. */
  path: string;
  summary: string;
  access: Access;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  bodyType?: string;
  /** Declared responses: status → the zod schema of a JSON body (undefined for other bodies). */
  responses: Record<string, z.ZodType | undefined>;
}

interface RouteWithAccess extends RouteConfig {
  "x-access"?: Access;
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
