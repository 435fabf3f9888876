import { z } from "@hono/zod-openapi";

export const AllowlistEntrySchema = z
  .object({
    user_id: z.string(),
    badge_sha256: z.array(z.string()),
    expires_at: z.string().nullable(),
  })
  .openapi("AllowlistEntry");
export type AllowlistEntry = z.infer<typeof AllowlistEntrySchema>;

/** The signed payload. */
export const AllowlistSchema = z
  .object({
    equipment_id: z.string(),
    makerspace_id: z.string(),
    version: z.string(),
    generated_at: z.string(),
    valid_until: z.string(),
    open: z.boolean(),
    entries: z.array(AllowlistEntrySchema),
  })
  .openapi("Allowlist");
export type Allowlist = z.infer<typeof AllowlistSchema>;

export const SignedAllowlistSchema = z
  .object({ jws: z.string(), allowlist: AllowlistSchema })
  .openapi("SignedAllowlist");
export type SignedAllowlist = z.infer<typeof SignedAllowlistSchema>;

/** Request headers of the allow-list route (other headers pass: a request carries many). */
export const AllowlistHeadersSchema = z.object({
  "If-None-Match": z
    .string()
    .optional()
    .openapi({ description: "The version (ETag) the caller holds; when it is current the answer is 304" }),
});

export const JwksSchema = z
  .object({
    keys: z.array(
      z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() }),
    ),
  })
  .openapi("Jwks");
