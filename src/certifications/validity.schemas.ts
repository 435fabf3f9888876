import { z } from "@hono/zod-openapi";

export const VALIDITY_MODES = ["duration", "never", "fixed_date", "renew_on_use"] as const;
export type ValidityMode = (typeof VALIDITY_MODES)[number];

/** The longest lifetime a skill may give in days (ten years; longer is what `never` is for). */
export const MAX_VALIDITY_DAYS = 3650;

const days = (mode: ValidityMode) =>
  z
    .number({
      error: (issue) =>
        issue.input === undefined ? `is required with mode ${mode}` : "must be a whole number of days",
    })
    .int("must be a whole number of days")
    .min(1, "must be at least 1")
    .max(MAX_VALIDITY_DAYS, `must be at most ${MAX_VALIDITY_DAYS}`);

/** A field another mode has (`days` with `never`) is named with the mode it does not belong to. */
const only = (mode: ValidityMode) => ({
  error: (issue: { code?: string }) =>
    issue.code === "unrecognized_keys" ? `is not a field of validity mode ${mode}` : undefined,
});

/**
 * `validity` as a client sends it: one object per mode, each with exactly its own fields, so a
 * bad combination (`days` missing, `days` with `never`, `date` with `duration`) is a 422 naming
 * the field. `date` is a calendar date (`2027-02-30` is refused).
 */
export const ValidityInputSchema = z
  .discriminatedUnion(
    "mode",
    [
      z.strictObject({ mode: z.literal("duration"), days: days("duration") }, only("duration")),
      z.strictObject({ mode: z.literal("never") }, only("never")),
      z.strictObject(
        { mode: z.literal("fixed_date"), date: z.iso.date({ error: "must be a date as YYYY-MM-DD" }) },
        only("fixed_date"),
      ),
      z.strictObject({ mode: z.literal("renew_on_use"), days: days("renew_on_use") }, only("renew_on_use")),
    ],
    {
      error: (issue) => (issue.code === "invalid_union" ? `must be one of ${VALIDITY_MODES.join(", ")}` : undefined),
    },
  )
  .openapi("ValidityInput", {
    description:
      "How long a certification of the skill lasts when granted without an explicit `expires_at`: `duration` (N days), `never`, `fixed_date` (the end of that UTC day, for everyone), `renew_on_use` (N days, moved to N days after each allowed `verify`)",
  });
export type ValidityInput = z.infer<typeof ValidityInputSchema>;

/** `validity` as every skill read shows it: the default is shown as the configured number of days. */
export const ValiditySchema = z
  .discriminatedUnion("mode", [
    z.object({ mode: z.literal("duration"), days: z.number().int() }),
    z.object({ mode: z.literal("never") }),
    z.object({ mode: z.literal("fixed_date"), date: z.string() }),
    z.object({ mode: z.literal("renew_on_use"), days: z.number().int() }),
  ])
  .openapi("Validity");
export type Validity = z.infer<typeof ValiditySchema>;
