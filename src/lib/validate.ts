import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import type { $ZodError } from "zod/v4/core";
import { type FieldError, validationError } from "./errors";

/** zod issues → the contract's `errors: [{ path, message }]`. */
export function toFieldErrors(error: $ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    // An unknown field is named by its own path, so a typo (`equipmentids`) points at itself.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...at, key].join("."), message: "is not a known field" }));
    }
    return [{ path: at.length > 0 ? at.join(".") : "(root)", message: issue.message }];
  });
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
