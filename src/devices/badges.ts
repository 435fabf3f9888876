import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import { allowlistBumps } from "../access/allowlist-versions";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, outboxStatements, publishCommitted } from "../audit/producer";
import { scopeMakerspace, visibleOr404 } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { changesOf, isUniqueViolation, runBatch } from "../platform/db/client";
import { byKeys } from "../platform/db/fan-out";
import { type BadgeRow, badges } from "../platform/db/schema";
import { AppError, validationError } from "../platform/errors";
import { sha256Hex } from "../platform/hash";
import { newId } from "../platform/ids";
import { iso } from "../platform/time";
import type { Badge, BadgeCreate, BadgeListQuery, BadgeResolve } from "./badges.schemas";

/** SHA-256 (hex) of a normalised UID (`normaliseBadgeUid`): the only form of a UID the service keeps. */
export const badgeHash = (normalisedUid: string): Promise<string> => sha256Hex(normalisedUid);

function toBadge(row: BadgeRow): Badge {
  return {
    id: row.id,
    user_id: row.userId,
    makerspace_id: row.makerspaceId,
    uid_last4: row.uidLast4,
    created_at: row.createdAt,
  };
}

function conflict(): AppError {
  return new AppError("badge_conflict", "This badge is already registered in the makerspace");
}

/** POST /badges: 409 when the UID is registered in the makerspace (enforced by the unique index). */
export async function registerBadge(deps: Deps, actor: Principal, input: BadgeCreate): Promise<Badge> {
  const row: BadgeRow = {
    id: newId("badge", deps),
    userId: input.user_id,
    makerspaceId: input.makerspace_id,
    uidSha256: await badgeHash(input.badge_uid),
    uidLast4: input.badge_uid.slice(-4),
    createdAt: iso(deps.now),
  };
  const event = newEvent(deps, {
    action: "badge_registered",
    makerspaceId: row.makerspaceId,
    userId: row.userId,
    performedBy: actor.sub,
    metadata: { badge_id: row.id, uid_last4: row.uidLast4 },
  });
  await runBatch(deps.db, [
    deps.db.insert(badges).values(row),
    ...allowlistBumps(deps, { userId: row.userId, makerspaceId: row.makerspaceId }),
    ...outboxStatements(deps.db, [event]),
  ]).catch((err: unknown) => {
    throw isUniqueViolation(err) ? conflict() : err;
  });
  publishCommitted(deps, [event]);
  return toBadge(row);
}

/** The list order of `listBadges` (its ORDER BY), for merging shards' pages. */
export const BADGE_ORDER = byKeys<Badge>([(b) => b.created_at, "asc"], [(b) => b.id, "asc"]);

export async function listBadges(deps: Deps, actor: Principal, q: BadgeListQuery): Promise<Badge[]> {
  const where: SQL[] = [];
  const ms = scopeMakerspace(actor, q.makerspace_id);
  if (ms) where.push(eq(badges.makerspaceId, ms));
  if (q.user_id) where.push(eq(badges.userId, q.user_id));
  const rows = await deps.db
    .select()
    .from(badges)
    .where(and(...where))
    .orderBy(asc(badges.createdAt), asc(badges.id))
    .limit(q.limit)
    .offset(q.offset)
    .all();
  return rows.map(toBadge);
}

/** DELETE /badges/{id}: the card stops opening anything at once (verify reads D1). */
export async function removeBadge(deps: Deps, actor: Principal, id: string): Promise<void> {
  const row = visibleOr404(
    actor,
    await deps.db.select().from(badges).where(eq(badges.id, id)).get(),
    "badge_not_found",
    "Badge not found",
  );
  const event = newEvent(deps, {
    action: "badge_removed",
    makerspaceId: row.makerspaceId,
    userId: row.userId,
    performedBy: actor.sub,
    metadata: { badge_id: row.id, uid_last4: row.uidLast4 },
  });
  const present = sql`exists (select 1 from ${badges} where ${badges.id} = ${id})`;
  const results = await runBatch(deps.db, [
    guardedOutboxStatement(deps.db, event, present),
    ...allowlistBumps(deps, { userId: row.userId, makerspaceId: row.makerspaceId }, present),
    deps.db.delete(badges).where(eq(badges.id, id)),
  ]);
  if (changesOf(results[results.length - 1]) !== 1) throw new AppError("badge_not_found", "Badge not found");
  publishCommitted(deps, [event]);
}

/**
 * POST /badges/resolve: the member a card belongs to, in the caller's makerspace (a super_admin
 * names one). A POST so that UIDs stay out of URLs and access logs.
 */
export async function resolveBadge(deps: Deps, actor: Principal, input: BadgeResolve): Promise<{ user_id: string }> {
  const ms = scopeMakerspace(actor, input.makerspace_id);
  if (!ms) throw validationError([{ path: "makerspace_id", message: "is required" }]);
  const row = await deps.db
    .select({ userId: badges.userId })
    .from(badges)
    .where(and(eq(badges.makerspaceId, ms), eq(badges.uidSha256, await badgeHash(input.badge_uid))))
    .get();
  if (!row) throw new AppError("badge_not_found", "Badge not found");
  return { user_id: row.userId };
}
