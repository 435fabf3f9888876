import { z } from "zod";
import { IdSchema, MakerspaceIdSchema, paging, UserIdSchema } from "./common";

/**
 * A card UID as readers print it (`04:a2:3b:…`, `04-A2-…`, spaced or not) → upper-case hex
 * without separators, the form whose SHA-256 the service stores (API.md section 8). 4–64 hex
 * digits covers every ISO 14443 / 15693 UID length with room to spare.
 */
export function normaliseBadgeUid(raw: string): string | null {
  const hex = raw.replace(/[\s:-]/g, "").toUpperCase();
  return /^[0-9A-F]{4,64}$/.test(hex) ? hex : null;
}

export const BadgeUidSchema = z
  .string()
  .max(200, "is too long")
  .transform((raw, ctx) => {
    const hex = normaliseBadgeUid(raw);
    if (hex === null) {
      ctx.addIssue({ code: "custom", message: "must be 4-64 hexadecimal digits (separators : - and spaces allowed)" });
      return z.NEVER;
    }
    return hex;
  });

export const BadgeCreateSchema = z.object({
  badge_uid: BadgeUidSchema,
  user_id: UserIdSchema,
  makerspace_id: MakerspaceIdSchema,
});
export type BadgeCreate = z.infer<typeof BadgeCreateSchema>;

export const BadgeListQuerySchema = z.object({
  user_id: UserIdSchema.optional(),
  makerspace_id: MakerspaceIdSchema.optional(),
  ...paging(500, 200),
});
export type BadgeListQuery = z.infer<typeof BadgeListQuerySchema>;

export const BadgeParamSchema = z.object({ id: IdSchema });

/** `makerspace_id` only matters to a super_admin (everyone else resolves in their own makerspace). */
export const BadgeResolveSchema = z.object({
  badge_uid: BadgeUidSchema,
  makerspace_id: MakerspaceIdSchema.optional(),
});
export type BadgeResolve = z.infer<typeof BadgeResolveSchema>;

export const BadgeSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  makerspace_id: z.string(),
  uid_last4: z.string(),
  created_at: z.string(),
});
export type Badge = z.infer<typeof BadgeSchema>;

export const BadgeResolvedSchema = z.object({ user_id: z.string() });
