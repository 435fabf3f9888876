import { describe, expect, it } from "vitest";
import { AppError, type ErrorType, statusOf, validationError } from "../../src/platform/errors";

/** docs/API.md "Errors", row by row: every error type and the status it must answer with. */
const CONTRACT: Record<ErrorType, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  insufficient_skills: 403,
  not_found: 404,
  skill_not_found: 404,
  equipment_not_found: 404,
  user_skill_not_found: 404,
  request_not_found: 404,
  device_not_found: 404,
  badge_not_found: 404,
  instructor_not_found: 404,
  webhook_not_found: 404,
  method_not_allowed: 405,
  request_conflict: 409,
  already_certified: 409,
  skill_conflict: 409,
  equipment_conflict: 409,
  badge_conflict: 409,
  invalid_state: 409,
  prerequisites_not_met: 409,
  payload_too_large: 413,
  rate_limited: 429,
  validation_error: 422,
  prerequisite_cycle: 422,
  internal_error: 500,
  config_error: 500,
  unavailable: 503,
};

describe("statusOf", () => {
  it.each(Object.entries(CONTRACT) as [ErrorType, number][])("%s → %i", (type, status) => {
    expect(statusOf(type)).toBe(status);
    expect(new AppError(type, "x").status).toBe(status);
  });
});

describe("AppError body", () => {
  it("is the contract's shape with the extra fields after it", () => {
    const err = new AppError("skill_conflict", "A skill with this name already exists", { existing_skill_id: "s1" });
    expect(err.toBody()).toEqual({
      detail: "A skill with this name already exists",
      status_code: 409,
      error_type: "skill_conflict",
      existing_skill_id: "s1",
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.type).toBe("skill_conflict");
  });

  it("has no extra fields unless given", () => {
    expect(new AppError("not_found", "Not found").toBody()).toEqual({
      detail: "Not found",
      status_code: 404,
      error_type: "not_found",
    });
  });

  it("validationError carries errors[]", () => {
    const err = validationError([{ path: "name", message: "must not be empty" }]);
    expect(err.toBody()).toEqual({
      detail: "Validation failed",
      status_code: 422,
      error_type: "validation_error",
      errors: [{ path: "name", message: "must not be empty" }],
    });
  });
});
