import { z } from "zod";
import type { RouteDoc } from "./registry";

const ErrorBody = z
  .object({
    detail: z.string(),
    status_code: z.number().int(),
    error_type: z.string(),
  })
  .loose();

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  delete out.$schema;
  return out;
}

function parameters(schema: z.ZodObject | undefined, location: "path" | "query"): unknown[] {
  if (!schema) return [];
  const shape = jsonSchema(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(shape.properties ?? {}).map(([name, s]) => ({
    name,
    in: location,
    required: location === "path" || (shape.required ?? []).includes(name),
    schema: s,
  }));
}

/** OpenAPI 3.1 document of every documented route. */
export function buildOpenApiDocument(docs: RouteDoc[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of docs) {
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(d.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema || r.contentType
          ? {
              content: {
                [r.contentType ?? "application/json"]: r.schema ? { schema: jsonSchema(r.schema, "output") } : {},
              },
            }
          : {}),
      };
    }
    responses.default = {
      description: "Error (API.md section 2)",
      content: { "application/json": { schema: jsonSchema(ErrorBody, "output") } },
    };
    const op: Record<string, unknown> = {
      summary: d.summary,
      description: `Allowed: ${d.roles}`,
      tags: [d.tag],
      operationId: `${d.method}_${d.path.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "")}`,
      parameters: [...parameters(d.params, "path"), ...parameters(d.query, "query")],
      responses,
      ...(d.auth === false ? { security: [] } : {}),
      ...(d.body
        ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(d.body, "input") } } } }
        : {}),
    };
    paths[d.path] ??= {};
    (paths[d.path] as Record<string, unknown>)[d.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "MakrCave Skills API",
      version: "1.0.0",
      description: "Skills, certifications, and equipment access decisions for makerspaces.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
