import { and, eq, sql } from "drizzle-orm";
import { certificationFields } from "../certifications/row";
import { storedCertifiedSql } from "../certifications/rules";
import { renewOnUse } from "../certifications/use-renewal";
import { badgeHash } from "../devices/badges";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { badges, equipment, userSkills } from "../platform/db/schema";
import type { AccessResult } from "./access.schemas";
import { decide, deniedError, denyUnlessAllowed, recordVerify, visibleEquipment } from "./checks";
import { denialOf } from "./decide";
import { foldRequirements, requirementsQuery } from "./store";

const UNKNOWN_BADGE = "Unknown badge";

/**
 * `verify` with `{ badge_uid }` (the route's `device-equipment` scope has already held a device to
 * its equipment): the card resolves to its member in the equipment's makerspace and the strong
 * check runs for that member — resolution, requirements and certifications in ONE D1 batch (the
 * certifications select by the badge's user through a subquery). An unknown (or deleted) card is
 * denied as `insufficient_skills` "Unknown badge" (`denial: unknown_badge`) and audited like any
 * other denial — unless the equipment is in maintenance or retired, which is the denial that wins
 * (`equipment_unavailable`, its own reason).
 */
export async function verifyAccessByBadge(
  deps: Deps,
  actor: Principal,
  equipmentId: string,
  badgeUid: string,
): Promise<AccessResult> {
  const { db } = deps;
  const hash = await badgeHash(badgeUid);
  const badgeMatch = sql`${badges.uidSha256} = ${hash} and ${badges.makerspaceId} = (select ${equipment.makerspaceId} from ${equipment} where ${equipment.id} = ${equipmentId})`;
  const [reqRows, badgeRows, certs] = await db.batch([
    requirementsQuery(db).where(eq(equipment.id, equipmentId)),
    db.select({ badge_id: badges.id, user_id: badges.userId }).from(badges).where(badgeMatch),
    db
      .select(certificationFields("skill_id", "expires_at", "id", "last_use_renewal_at"))
      .from(userSkills)
      .where(
        and(
          storedCertifiedSql(),
          sql`${userSkills.userId} = (select ${badges.userId} from ${badges} where ${badgeMatch})`,
        ),
      ),
  ]);
  const item = visibleEquipment(actor, foldRequirements(reqRows)[0]);
  const badge = badgeRows[0];
  if (!badge) {
    const denial = denialOf({ equipmentStatus: item.status, badgeKnown: false, canAccess: false });
    const reason = denial === "unknown_badge" ? UNKNOWN_BADGE : decide(deps, item, []).reason;
    const denied = { can_access: false, reason, missing_skills: [], user_id: null, denial };
    recordVerify(deps, actor, item.makerspaceId, denied, {
      equipment_id: item.id,
      via: "badge",
      uid_last4: badgeUid.slice(-4),
    });
    throw deniedError(denied);
  }
  const result: AccessResult = {
    equipment_id: item.id,
    equipment_name: item.name,
    user_id: badge.user_id,
    ...decide(deps, item, certs),
  };
  const outcome = {
    ...result,
    denial: denialOf({ equipmentStatus: item.status, badgeKnown: true, canAccess: result.can_access }),
  };
  recordVerify(deps, actor, item.makerspaceId, outcome, {
    equipment_id: item.id,
    via: "badge",
    badge_id: badge.badge_id,
  });
  denyUnlessAllowed(outcome);
  renewOnUse(deps, item, badge.user_id, certs);
  return result;
}
