import type { z } from "zod";

export type HttpMethod = "get" | "post" | "put" | "delete";

/**
 * One route's contract, written beside its handlers and built from the same zod schemas that
 * validate the request, so the OpenAPI document cannot drift from what is enforced.
 */
export interface RouteDoc {
  method: HttpMethod;
  /** OpenAPI path template, e.g. `/api/v1/skills/{id}`. */
  path: string;
  summary: string;
  tag: string;
  /** Who may call it, in words (shown in the docs). */
  roles: string;
  /** false for the few unauthenticated routes. */
  auth?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}
