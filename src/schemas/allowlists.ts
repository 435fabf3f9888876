import { z } from "zod";

export const AllowlistEntrySchema = z.object({
  user_id: z.string(),
  badge_sha256: z.array(z.string()),
  expires_at: z.string().nullable(),
});
export type AllowlistEntry = z.infer<typeof AllowlistEntrySchema>;

/** The signed payload (API.md section 9). */
export const AllowlistSchema = z.object({
  equipment_id: z.string(),
  makerspace_id: z.string(),
  version: z.string(),
  generated_at: z.string(),
  valid_until: z.string(),
  open: z.boolean(),
  entries: z.array(AllowlistEntrySchema),
});
export type Allowlist = z.infer<typeof AllowlistSchema>;

export const SignedAllowlistSchema = z.object({ jws: z.string(), allowlist: AllowlistSchema });
export type SignedAllowlist = z.infer<typeof SignedAllowlistSchema>;

export const JwksSchema = z.object({
  keys: z.array(
    z.object({ kty: z.string(), crv: z.string(), x: z.string(), kid: z.string(), alg: z.string(), use: z.string() }),
  ),
});
