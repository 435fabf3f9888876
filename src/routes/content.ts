import type { z } from "@hono/zod-openapi";

/** A JSON request body; `required: false` lets a client send none (then it reads as `{}`). */
export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { required, content: { "application/json": { schema } } } as const;
}

/** A JSON response. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}
