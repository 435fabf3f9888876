import { and, desc, eq, sql } from "drizzle-orm";
import type { Deps } from "../platform/context";
import { devices, equipment, skillAuditLogs, skillRequests, userSkills } from "../platform/db/schema";
import { EXPIRING_WITHIN_DAYS } from "./matrix.schemas";
import { OVERVIEW_ACTIVITY_ITEMS, type Overview } from "./overview.schemas";

const DAY_MS = 86_400_000;

/**
 * GET /makerspaces/{id}/overview: the console's first screen, in one batch of five reads — the
 * certification counts, the people, requests, equipment by status, offline devices, and the
 * latest audit events (newest first from the (makerspace, created_at, id) index).
 */
export async function readOverview(deps: Deps, makerspaceId: string): Promise<Overview> {
  const now = deps.now.toISOString();
  const soon = new Date(deps.now.getTime() + EXPIRING_WITHIN_DAYS * DAY_MS).toISOString();
  const onlineSince = new Date(deps.now.getTime() - 3 * deps.config.DEVICE_HEARTBEAT_SECONDS * 1000).toISOString();
  const inForce = sql`${userSkills.status} = 'certified' and (${userSkills.expiresAt} is null or ${userSkills.expiresAt} > ${now})`;
  const [certs, people, requests, items, offline, activity] = await deps.db.batch([
    deps.db
      .select({
        inForce: sql<number>`coalesce(sum(case when ${inForce} then 1 else 0 end), 0)`,
        expiring: sql<number>`coalesce(sum(case when ${inForce} and ${userSkills.expiresAt} <= ${soon} then 1 else 0 end), 0)`,
      })
      .from(userSkills)
      .where(eq(userSkills.makerspaceId, makerspaceId)),
    deps.db.select({ n: sql<number>`count(*)` }).from(
      sql`(select ${userSkills.userId} from ${userSkills} where ${userSkills.makerspaceId} = ${makerspaceId}
             union select ${skillRequests.userId} from ${skillRequests} where ${skillRequests.makerspaceId} = ${makerspaceId})`,
    ),
    deps.db
      .select({ n: sql<number>`count(*)` })
      .from(skillRequests)
      .where(and(eq(skillRequests.makerspaceId, makerspaceId), eq(skillRequests.status, "pending"))),
    deps.db
      .select({ status: equipment.status, n: sql<number>`count(*)` })
      .from(equipment)
      .where(eq(equipment.makerspaceId, makerspaceId))
      .groupBy(equipment.status),
    deps.db
      .select({ n: sql<number>`count(*)` })
      .from(devices)
      .where(
        and(
          eq(devices.makerspaceId, makerspaceId),
          eq(devices.status, "active"),
          sql`(${devices.lastSeenAt} is null or ${devices.lastSeenAt} < ${onlineSince})`,
        ),
      ),
    deps.db
      .select({
        id: skillAuditLogs.id,
        action: skillAuditLogs.action,
        user_id: skillAuditLogs.userId,
        skill_id: skillAuditLogs.skillId,
        performed_by: skillAuditLogs.performedBy,
        reason: skillAuditLogs.reason,
        created_at: skillAuditLogs.createdAt,
      })
      .from(skillAuditLogs)
      .where(eq(skillAuditLogs.makerspaceId, makerspaceId))
      .orderBy(desc(skillAuditLogs.createdAt), desc(skillAuditLogs.id))
      .limit(OVERVIEW_ACTIVITY_ITEMS),
  ]);
  const byStatus = new Map(items.map((r) => [r.status, Number(r.n)]));
  return {
    makerspace_id: makerspaceId,
    generated_at: now,
    counts: {
      members: Number(people[0]?.n ?? 0),
      certifications_in_force: Number(certs[0]?.inForce ?? 0),
      expiring_30d: Number(certs[0]?.expiring ?? 0),
      pending_requests: Number(requests[0]?.n ?? 0),
      equipment_available: byStatus.get("available") ?? 0,
      equipment_maintenance: byStatus.get("maintenance") ?? 0,
      equipment_retired: byStatus.get("retired") ?? 0,
      devices_offline: Number(offline[0]?.n ?? 0),
    },
    latest_activity: activity,
  };
}
