import { z } from "@hono/zod-openapi";
import { MakerspaceIdSchema, paging, UserIdSchema } from "../http/common.schemas";

/**
 * A card UID as readers print it (`04:a2:3b:…`, `04-A2-…`, spaced or not): 4–64 hex digits, which
 * covers every ISO 14443 / 15693 UID length with room to spare, with `:`, `-` or white space
 * anywhere around them. The one pattern both validates and is shown in the document.
 */
export const BADGE_UID_PATTERN = /^[\s:-]*(?:[0-9A-Fa-f][\s:-]*){4,64}$/;

/** A UID matching {@link BADGE_UID_PATTERN} → upper-case hex without separators, the form whose SHA-256 is kept. */
export function normaliseBadgeUid(raw: string): string {
  return raw.replace(/[\s:-]/g, "").toUpperCase();
}

export const BadgeUidSchema = z
  .string()
  .max(200, "is too long")
  .regex(BADGE_UID_PATTERN, "must be 4-64 hexadecimal digits (separators : - and spaces allowed)")
  .transform(normaliseBadgeUid)
  .openapi({
    description: "A card UID as readers print it: 4-64 hexadecimal digits, separators `:`, `-` and spaces allowed",
    example: "04:A2:3B:1C:5D:80",
  });

export const BadgeCreateSchema = z
  .strictObject({
    badge_uid: BadgeUidSchema,
    user_id: UserIdSchema,
    makerspace_id: MakerspaceIdSchema,
  })
  .openapi("BadgeCreate");
export type BadgeCreate = z.infer<typeof BadgeCreateSchema>;

export const BadgeListQuerySchema = z.strictObject({
  user_id: UserIdSchema.optional(),
  makerspace_id: MakerspaceIdSchema.optional(),
  ...paging(500, 200),
});
export type BadgeListQuery = z.infer<typeof BadgeListQuerySchema>;

export const BadgeResolveSchema = z
  .strictObject({
    badge_uid: BadgeUidSchema,
    makerspace_id: MakerspaceIdSchema.optional().openapi({
      description:
        "Required from `super_admin`. Everyone else resolves in their own makerspace (and may name only it).",
    }),
  })
  .openapi("BadgeResolve");
export type BadgeResolve = z.infer<typeof BadgeResolveSchema>;

export const BadgeSchema = z
  .object({
    id: z.string(),
    user_id: z.string(),
    makerspace_id: z.string(),
    uid_last4: z.string(),
    created_at: z.string(),
  })
  .openapi("Badge");
export type Badge = z.infer<typeof BadgeSchema>;

export const BadgeResolvedSchema = z.object({ user_id: z.string() }).openapi("BadgeResolved");
