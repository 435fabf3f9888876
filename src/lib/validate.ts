import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import type { $ZodError } from "zod/v4/core";
import { type FieldError, validationError } from "./errors";

/** zod issues → the contract's `errors: [{ path, message }]`. */
export function toFieldErrors(error: $ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)",
    message: issue.message,
  }));
}

/**
 * The shared validation middleware: zod failures leave as 422 `validation_error` through
 * `app.onError`, like every other error. Malformed JSON is rejected by Hono before this hook
 * runs (400 `bad_request`, mapped in onError).
 */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw validationError(toFieldErrors(result.error));
  });
}
