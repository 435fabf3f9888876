import type { z } from "@hono/zod-openapi";

/** A JSON request body; `required: false` lets a client send none (then it reads as `{}`). */
export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { required, content: { "application/json": { schema } } } as const;
}

/** A JSON response. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}

/**
 * A streamed body in a media type @hono/zod-openapi's handler types cannot express: it reads any
 * `application/…json…` type (NDJSON included) as JSON and then accepts no other response.
 */
export function streamedBody(body: ReadableStream<Uint8Array>, headers: Record<string, string>): never {
  return new Response(body, { status: 200, headers }) as never;
}
