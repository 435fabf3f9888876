import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import { certificationFields } from "../certifications/row";
import { inForceSql } from "../certifications/rules";
import { publicSigningJwk, signAllowlistPayload } from "../identity/allowlist-key";
import { inMakerspace } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { type Db, runBatch, type Statement } from "../platform/db/client";
import { badges, equipment, skillEquipment, userSkills } from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { addSeconds, iso } from "../platform/time";
import { readCachedAllowlist, rememberAllowlist } from "./allowlist-cache";
import { type AllowlistContent, allowlistContent, type BadgeHashRow, type CertifiedRow } from "./allowlist-payload";
import { servedVersion, storedVersionsQuery } from "./allowlist-versions";
import type { Allowlist, SignedAllowlist } from "./allowlists.schemas";
import type { EquipmentRequirements } from "./requirements-cache";
import { foldRequirements, requirementsQuery } from "./store";

/**
 * The three reads behind one or more allow-lists, for a set of equipment given as a SQL row
 * source (`(?)`, a json_each, a subquery), so they go to D1 as one batch whatever the number of
 * members: the items with their linked skills, every live certification of those skills, and the
 * badges of the users holding one.
 */
function allowlistReads(db: Db, equipmentSet: SQL, nowIso: string): [Statement, Statement, Statement] {
  const linkedSkills = sql`(select ${skillEquipment.skillId} from ${skillEquipment} where ${skillEquipment.equipmentId} in ${equipmentSet})`;
  const live = and(inForceSql(nowIso), sql`${userSkills.skillId} in ${linkedSkills}`);
  return [
    requirementsQuery(db).where(sql`${equipment.id} in ${equipmentSet}`).orderBy(asc(equipment.id)),
    db
      .select(certificationFields("user_id", "skill_id", "expires_at"))
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

/** The item an allow-list is asked for, with its stored version (one point read). */
function allowlistItemQuery(deps: Pick<Deps, "db">, equipmentId: string) {
  return deps.db
    .select({ id: equipment.id, makerspaceId: equipment.makerspaceId, counter: equipment.allowlistVersion })
    .from(equipment)
    .where(eq(equipment.id, equipmentId));
}

/**
 * GET …/allowlist. The version is the item's stored counter (`servedVersion`): read it (one
 * point query), answer 304 when the caller holds it, else serve the list signed for this version
 * from KV while more than half its TTL remains (built and signed once per version, not per
 * request). Only a miss reads the members (one D1 batch, whatever their number) and signs; the
 * counter is read again in that batch, so the list is filed under the version it was built at.
 * The signing key is checked first, so a missing key is a 500 `config_error` even for callers
 * that would get a 304. The route's `device-equipment` scope has already held a device to its items.
 */
export async function getAllowlist(
  deps: Deps,
  actor: Principal,
  equipmentId: string,
  ifNoneMatch: string | undefined,
): Promise<AllowlistResult> {
  const { x } = await publicSigningJwk(deps.config);
  const found = await allowlistItemQuery(deps, equipmentId).get();
  if (!found || !inMakerspace(actor, found.makerspaceId)) {
    throw new AppError("equipment_not_found", "Equipment not found");
  }
  const version = servedVersion(found.counter, deps.config);
  if (matchesEtag(ifNoneMatch, version)) return { notModified: true, version };
  const cached = await readCachedAllowlist(deps, equipmentId, version, x);
  if (cached) return { notModified: false, body: cached };

  const reads = await runReads(deps, [allowlistItemQuery(deps, equipmentId)], sql`(${equipmentId})`);
  const item = reads.items[0];
  const current = (reads.extra[0] as { counter: number }[])[0];
  if (!item || !current) throw new AppError("equipment_not_found", "Equipment not found");
  const content = await contentOf(deps, item, reads);
  const allowlist: Allowlist = {
    equipment_id: item.id,
    makerspace_id: item.makerspaceId,
    version: servedVersion(current.counter, deps.config),
    generated_at: iso(deps.now),
    valid_until: iso(addSeconds(deps.now, deps.config.ALLOWLIST_TTL_SECONDS)),
    open: content.open,
    entries: content.entries,
  };
  const body = { jws: await signAllowlistPayload(deps.config, allowlist), allowlist };
  rememberAllowlist(deps, body, x);
  return { notModified: false, body };
}

/**
 * The current allow-list version of each item in `equipmentIds` (every item of the makerspace
 * when empty), read in the same batch as `extra` (the heartbeat's own write): one D1 round trip
 * and one indexed read of stored counters, whatever the number of items, members and
 * certifications.
 */
export async function allowlistVersions(
  deps: Deps,
  makerspaceId: string,
  equipmentIds: string[],
  extra: Statement[],
): Promise<{ versions: Record<string, string>; extra: unknown[] }> {
  const results = await runBatch(deps.db, [...extra, storedVersionsQuery(deps, makerspaceId, equipmentIds)]);
  const rows = results[extra.length] as { id: string; version: number }[];
  const versions: Record<string, string> = {};
  for (const row of rows) versions[row.id] = servedVersion(row.version, deps.config);
  return { versions, extra: results.slice(0, extra.length) };
}
