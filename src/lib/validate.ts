import type { $ZodError } from "zod/v4/core";
import type { FieldError } from "./errors";

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
