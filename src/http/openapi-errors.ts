import { z } from "@hono/zod-openapi";
import { DENIALS } from "../access/access.schemas";
import { type ErrorType, statusOf } from "../platform/errors";

/** The one error body of the API; every non-2xx answer has it (named `Error` in the document). */
export const ErrorSchema = z
  .object({
    detail: z.string().openapi({ example: "Skill not found" }),
    status_code: z.number().int().openapi({ example: 404 }),
    error_type: z.string().openapi({ example: "skill_not_found" }),
  })
  .openapi("Error");

export const FieldErrorSchema = z.object({ path: z.string(), message: z.string() }).openapi("FieldError");

/** Fields some error types add to the body (the contract's "extra fields"), as the services send them. */
const EXTRA_FIELDS: Partial<Record<ErrorType, Record<string, z.ZodType>>> = {
  validation_error: { errors: z.array(FieldErrorSchema) },
  internal_error: { request_id: z.string() },
  rate_limited: { retry_after: z.number().int().min(1).max(60).openapi({ example: 12 }) },
  request_conflict: {
    existing_request_id: z
      .string()
      .nullable()
      .openapi({ description: "null when the pending request was settled before it could be named" }),
  },
  already_certified: { user_skill_id: z.string() },
  skill_conflict: {
    existing_skill_id: z
      .string()
      .optional()
      .openapi({ description: "Absent when the skill holding the name was removed before it could be named" }),
  },
  prerequisites_not_met: { missing_prerequisites: z.array(z.string()) },
  insufficient_skills: {
    missing_skills: z.array(z.string()),
    reason: z.string().openapi({ description: "The human sentence, as in an allowed answer" }),
    denial: z.enum(DENIALS).openapi({
      description:
        "A stable code for controllers; the first that applies wins: equipment_unavailable, unknown_badge, missing_skills",
    }),
  },
};

const DESCRIPTIONS: Record<number, string> = {
  400: "The body is not valid JSON",
  401: "Missing or bad token (with `WWW-Authenticate: Bearer`)",
  403: "The caller's role, makerspace, user or equipment does not allow the call",
  404: "Unknown id, or a resource of another makerspace",
  409: "Conflicts with the stored state",
  413: "The body is larger than the limit",
  422: "The path, query or body fails validation (unknown fields included)",
  429: "A budget of the caller is spent for this minute (with `Retry-After`, also in `retry_after`)",
  500: "Unexpected fault (logged with the request id) or invalid configuration",
  503: "A dependency is unavailable or not ready, or the database stayed unavailable through the retries of a read (with `Retry-After`)",
};

const RETRY_AFTER_HEADER = {
  "retry-after": { description: "Seconds to wait before asking again", schema: { type: "string" } },
};

/** One response per status, its `error_type` limited to the types this route can answer there. */
export function errorResponses(types: readonly ErrorType[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorType[]>();
  for (const type of new Set(types)) {
    const status = statusOf(type);
    byStatus.set(status, [...(byStatus.get(status) ?? []), type]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, statusTypes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const single = statusTypes.length === 1;
    const extras: Record<string, z.ZodType> = {};
    for (const type of statusTypes) {
      for (const [field, schema] of Object.entries(EXTRA_FIELDS[type] ?? {})) {
        extras[field] = single ? schema : schema.optional();
      }
    }
    const schema = ErrorSchema.extend({
      status_code: z.literal(status),
      error_type: z.enum(statusTypes as [ErrorType, ...ErrorType[]]),
      ...extras,
    });
    responses[String(status)] = {
      description: `${DESCRIPTIONS[status] ?? "Error"}: ${statusTypes.map((t) => `\`${t}\``).join(", ")}`,
      content: { "application/json": { schema } },
      ...(status === 429 || status === 503 ? { headers: RETRY_AFTER_HEADER } : {}),
    };
  }
  return responses;
}
