import type { $ZodError } from "zod/v4/core";
import type { FieldError } from "./errors";

/** zod's own wording for an unknown key, which the contract's message replaces. */
const DEFAULT_UNKNOWN_KEY = /^Unrecognized keys?:/;

/** zod issues → the contract's `errors: [{ path, message }]`. */
export function toFieldErrors(error: $ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    // An unknown field is named by its own path, so a typo (`equipmentids`) points at itself; a
    // schema that explains why (a field of another `validity` mode) keeps its own message.
    if (issue.code === "unrecognized_keys") {
      const message = DEFAULT_UNKNOWN_KEY.test(issue.message) ? "is not a known field" : issue.message;
      return issue.keys.map((key) => ({ path: [...at, key].join("."), message }));
    }
    return [{ path: at.length > 0 ? at.join(".") : "(root)", message: issue.message }];
  });
}
