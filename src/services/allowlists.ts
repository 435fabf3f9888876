import { and, asc, eq, gt, isNull, or, type SQL, sql } from "drizzle-orm";
import { type AllowlistContent, allowlistContent, type BadgeHashRow, type CertifiedRow } from "../access/allowlist";
import { publicSigningJwk, signAllowlistPayload } from "../auth/allowlist-key";
import { inMakerspace } from "../auth/guards";
import type { Principal } from "../auth/principal";
import type { EquipmentRequirements } from "../cache/equipment-requirements";
import type { Deps } from "../context";
import { type Db, type Statement, valuesOf } from "../db/client";
import { badges, equipment, skillEquipment, userSkills } from "../db/schema";
import { AppError } from "../lib/errors";
import { addSeconds, iso } from "../lib/time";
import type { Allowlist, SignedAllowlist } from "../schemas/allowlists";
import { foldRequirements, requirementsQuery } from "./access-data";

/**
 * The three reads behind one or more allow-lists, for a set of equipment given as a SQL row
 * source (`(?)`, a json_each, a subquery), so they go to D1 as one batch whatever the number of
 * members: the items with their linked skills, every live certification of those skills, and the
 * badges of the users holding one.
 */
function allowlistReads(db: Db, equipmentSet: SQL, nowIso: string): [Statement, Statement, Statement] {
  const linkedSkills = sql`(select ${skillEquipment.skillId} from ${skillEquipment} where ${skillEquipment.equipmentId} in ${equipmentSet})`;
  const live = and(
    eq(userSkills.status, "certified"),
    or(isNull(userSkills.expiresAt), gt(userSkills.expiresAt, nowIso)),
    sql`${userSkills.skillId} in ${linkedSkills}`,
  );
  return [
    requirementsQuery(db).where(sql`${equipment.id} in ${equipmentSet}`).orderBy(asc(equipment.id)),
    db
      .select({ user_id: userSkills.userId, skill_id: userSkills.skillId, expires_at: userSkills.expiresAt })
      .from(userSkills)
      .where(live),
    db
      .select({ user_id: badges.userId, uid_sha256: badges.uidSha256 })
      .from(badges)
      .where(
        and(
          sql`${badges.makerspaceId} in (select ${equipment.makerspaceId} from ${equipment} where ${equipment.id} in ${equipmentSet})`,
          sql`${badges.userId} in (select ${userSkills.userId} from ${userSkills} where ${live})`,
        ),
      ),
  ];
}

type Reads = Awaited<ReturnType<typeof runReads>>;

async function runReads(deps: Deps, extra: Statement[], equipmentSet: SQL) {
  const statements = [...extra, ...allowlistReads(deps.db, equipmentSet, iso(deps.now))];
  const results = (await deps.db.batch(statements as [Statement, ...Statement[]])) as unknown[];
  const tail = results.slice(extra.length);
  return {
    extra: results.slice(0, extra.length),
    items: foldRequirements(tail[0] as Parameters<typeof foldRequirements>[0]),
    certified: tail[1] as CertifiedRow[],
    badges: tail[2] as BadgeHashRow[],
  };
}

function contentOf(deps: Deps, item: EquipmentRequirements, reads: Reads): Promise<AllowlistContent> {
  const skillIds = new Set(item.requiredSkills.map((s) => s.id));
  const certified = reads.certified.filter((r) => skillIds.has(r.skill_id));
  const users = new Set(certified.map((r) => r.user_id));
  return allowlistContent(
    item,
    certified,
    reads.badges.filter((b) => users.has(b.user_id)),
    {
      now: deps.now,
      enforcement: deps.config.EQUIPMENT_SKILL_ENFORCEMENT,
      emergencyOverride: deps.config.EQUIPMENT_EMERGENCY_OVERRIDE,
    },
  );
}

/** Does an `If-None-Match` header name this version (`"v"`, `W/"v"`, a list, or `*`)? */
export function matchesEtag(header: string | undefined, version: string): boolean {
  if (!header) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === `"${version}"` || t === version);
}

export type AllowlistResult = { notModified: true; version: string } | { notModified: false; body: SignedAllowlist };

/**
 * GET …/allowlist: one D1 round trip; 304 when the caller already holds this version. The
 * signing key is checked first, so a missing key is a 500 `config_error` even for callers that
 * would get a 304. The route's `device-equipment` scope has already held a device to its items.
 */
export async function getAllowlist(
  deps: Deps,
  actor: Principal,
  equipmentId: string,
  ifNoneMatch: string | undefined,
): Promise<AllowlistResult> {
  await publicSigningJwk(deps.config);
  const reads = await runReads(deps, [], sql`(${equipmentId})`);
  const item = reads.items[0];
  if (!item || !inMakerspace(actor, item.makerspaceId)) {
    throw new AppError("equipment_not_found", "Equipment not found");
  }
  const content = await contentOf(deps, item, reads);
  if (matchesEtag(ifNoneMatch, content.version)) return { notModified: true, version: content.version };
  const allowlist: Allowlist = {
    equipment_id: item.id,
    makerspace_id: item.makerspaceId,
    version: content.version,
    generated_at: iso(deps.now),
    valid_until: iso(addSeconds(deps.now, deps.config.ALLOWLIST_TTL_SECONDS)),
    open: content.open,
    entries: content.entries,
  };
  return { notModified: false, body: { jws: await signAllowlistPayload(deps.config, allowlist), allowlist } };
}

/** The most items a heartbeat reports for a device not limited to some equipment. */
export const HEARTBEAT_MAX_EQUIPMENT = 100;

/**
 * The current allow-list version of each item in `equipmentIds` (every item of the makerspace,
 * by id, up to HEARTBEAT_MAX_EQUIPMENT, when empty), read in the same batch as `extra` (the
 * heartbeat's own write), so a heartbeat is one D1 round trip.
 */
export async function allowlistVersions(
  deps: Deps,
  makerspaceId: string,
  equipmentIds: string[],
  extra: Statement[],
): Promise<{ versions: Record<string, string>; extra: unknown[] }> {
  const set =
    equipmentIds.length > 0
      ? valuesOf(equipmentIds)
      : sql`(select ${equipment.id} from ${equipment} where ${equipment.makerspaceId} = ${makerspaceId} order by ${equipment.id} limit ${HEARTBEAT_MAX_EQUIPMENT})`;
  const reads = await runReads(deps, extra, set);
  const versions: Record<string, string> = {};
  for (const item of reads.items) {
    if (item.makerspaceId !== makerspaceId) continue;
    versions[item.id] = (await contentOf(deps, item, reads)).version;
  }
  return { versions, extra: reads.extra };
}
