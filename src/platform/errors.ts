/**
 * The one exception type of the service. Every failure leaves through `app.onError`, which turns
 * an AppError into the contract's body `{ detail, status_code, error_type, ...extra }`.
 */
export type ErrorType =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "insufficient_skills"
  | "not_found"
  | "skill_not_found"
  | "equipment_not_found"
  | "user_skill_not_found"
  | "request_not_found"
  | "device_not_found"
  | "badge_not_found"
  | "instructor_not_found"
  | "webhook_not_found"
  | "method_not_allowed"
  | "request_conflict"
  | "already_certified"
  | "skill_conflict"
  | "equipment_conflict"
  | "badge_conflict"
  | "invalid_state"
  | "prerequisites_not_met"
  | "payload_too_large"
  | "rate_limited"
  | "validation_error"
  | "prerequisite_cycle"
  | "internal_error"
  | "config_error"
  | "unavailable";

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 422 | 429 | 500 | 503;

/** Exhaustive: adding an ErrorType without a status fails to compile. */
export function statusOf(type: ErrorType): ErrorStatus {
  switch (type) {
    case "bad_request":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
    case "insufficient_skills":
      return 403;
    case "not_found":
    case "skill_not_found":
    case "equipment_not_found":
    case "user_skill_not_found":
    case "request_not_found":
    case "device_not_found":
    case "badge_not_found":
    case "instructor_not_found":
    case "webhook_not_found":
      return 404;
    case "method_not_allowed":
      return 405;
    case "request_conflict":
    case "already_certified":
    case "skill_conflict":
    case "equipment_conflict":
    case "badge_conflict":
    case "invalid_state":
    case "prerequisites_not_met":
      return 409;
    case "payload_too_large":
      return 413;
    case "rate_limited":
      return 429;
    case "validation_error":
    case "prerequisite_cycle":
      return 422;
    case "internal_error":
    case "config_error":
      return 500;
    case "unavailable":
      return 503;
  }
}

export type ErrorExtra = Record<string, unknown>;

export interface AppErrorOptions {
  /** Sent as the `Retry-After` header (seconds): when the caller may usefully try again. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** `Error` with V8's `stackTraceLimit` (workerd is V8; the kiosk's DOM types do not declare it). */
const V8Error = Error as ErrorConstructor & { stackTraceLimit?: number };

export class AppError extends Error {
  readonly type: ErrorType;
  readonly status: ErrorStatus;
  readonly extra: ErrorExtra;
  readonly retryAfterSeconds: number | undefined;

  constructor(type: ErrorType, detail: string, extra: ErrorExtra = {}, options: AppErrorOptions = {}) {
    // A 4xx is an answer, not a fault: no stack is captured (it is never logged, and capturing
    // one was a visible part of a denied `verify`'s CPU). 5xx keep theirs for the log.
    const limit = V8Error.stackTraceLimit;
    if (statusOf(type) < 500) V8Error.stackTraceLimit = 0;
    super(detail, { cause: options.cause });
    V8Error.stackTraceLimit = limit;
    this.name = "AppError";
    this.type = type;
    this.status = statusOf(type);
    this.extra = extra;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toBody(): Record<string, unknown> {
    return { detail: this.message, status_code: this.status, error_type: this.type, ...this.extra };
  }
}

export interface FieldError {
  path: string;
  message: string;
}

export function validationError(errors: FieldError[], detail = "Validation failed"): AppError {
  return new AppError("validation_error", detail, { errors });
}
