import { and, eq, type SQL, sql } from "drizzle-orm";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import { allowlistBumps } from "../access/allowlist-versions";
import { type AuditEvent, newEvent } from "../audit/events";
import { publishCommitted } from "../audit/producer";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { changesOf, type Db, insertWhere, runBatch, type Statement, valuesOf } from "../platform/db/client";
import {
  auditOutbox,
  type SkillRow,
  skillInstructors,
  skillPrerequisites,
  skills,
  userSkills,
} from "../platform/db/schema";
import { AppError } from "../platform/errors";
import { newId } from "../platform/ids";
import { iso } from "../platform/time";
import { type CachedCertification, certificationsQuery, syncCertificationCache } from "./cache";
import { assertMayCertify } from "./instructor-rights";
import { expiryFor, expirySql, fixedDateOpenSql, fixedDatePassed, inForceSql, isUnexpired, validityOf } from "./rules";
import { type CertificationState, certificationState, prerequisitesNotMet } from "./state";

/** How many times a certification is tried again after a rule failed in the batch but held when re-read. */
export const MAX_GRANT_ATTEMPTS = 3;

/** A guard that always holds: the grant applies unconditionally. */
export const ALWAYS = sql`1`;

export interface GrantInput {
  userId: string;
  status: "certified" | "pending";
  /** Who certifies: the caller, or the auto-approver. */
  certifiedBy: string;
  notes?: string | null;
  quizScore?: string | null;
  expiresAt?: string | null;
  /** Audit reason and metadata extras (the approving request). */
  reason?: string | null;
  requestId?: string;
}

/**
 * An audit event whose payload is completed inside the batch: `patches` (JSON path → SQL value)
 * are set with `json_set` on the event as built here, so an event can name what only the batch
 * knows (the row a grant renewed, the skill's makerspace). Inserted into the outbox only when
 * `condition` holds at that point of the batch; the payload actually written is read back and sent.
 */
export function eventStatement(db: Db, event: AuditEvent, condition: SQL, patches: [string, SQL][] = []): Statement {
  const payload =
    patches.length === 0
      ? sql`${JSON.stringify(event)}`
      : sql`json_set(${JSON.stringify(event)}, ${sql.join(
          patches.map(([path, value]) => sql`${path}, ${value}`),
          sql`, `,
        )})`;
  return insertWhere(db, auditOutbox, { id: event.id, payload, createdAt: event.created_at, attempts: 0 }, condition);
}

/** One grant as SQL, ready for a batch: no I/O. */
export interface GrantPlan {
  /**
   * The event first (it applies exactly when the grant does), then the upsert, then the bump of
   * the allow-list versions of the skill's items (only when the grant applied).
   */
  statements: Statement[];
  /** True, inside the same batch after `statements`, exactly when the grant was written. */
  applied: SQL;
  /** The id of the user's row for the skill, inside the batch after `statements`. */
  userSkillId: SQL;
  /** The skill's makerspace, inside the batch. */
  makerspaceId: SQL;
  event: AuditEvent;
}

/**
 * Who certifies: `caller` — an admin, or an instructor of the skill certifying someone else
 * (`assertMayCertify`, checked inside the batch and explained by it when the batch did not apply);
 * `system` — the auto-approver, for a member's own request.
 */
export type Certifier = "caller" | "system";

/** `assertMayCertify` as SQL: no query for an admin, the instructor assignment otherwise. */
function mayCertifySql(actor: Principal, skillId: string, userId: string): SQL {
  if (actor.role === "super_admin" || actor.role === "makerspace_admin") return sql`1`;
  if (actor.role !== "member" || actor.makerspaceId === null || userId === actor.sub) return sql`0`;
  const i = skillInstructors;
  return sql`exists (select 1 from ${i} where ${i.skillId} = ${skillId}
    and ${i.userId} = ${actor.sub} and ${i.makerspaceId} = ${actor.makerspaceId})`;
}

/**
 * A grant as one conditional upsert on (user_id, skill_id): a new row (201, `skill_granted`) or a
 * renewal of the user's row for the skill (200, `skill_renewed`), whichever the database holds when
 * the batch runs — so a concurrent grant is renewed, never lost to. Everything is conditional on
 * the grant rules (the skill exists in the caller's makerspace and is active; every prerequisite is
 * held certified and unexpired; the certifier may certify this user in this skill; a `fixed_date`
 * skill's date has not passed, unless `expires_at` is explicit) and on `callerGuard`, so a caller
 * can tie the grant to another state change in the same batch (an approval). Without an explicit
 * `expires_at` the skill's validity sets the expiry (`expiryFor`, evaluated in the batch as
 * `expirySql`).
 */
export function planGrant(
  deps: Deps,
  actor: Principal,
  skillId: string,
  input: GrantInput,
  callerGuard: SQL,
  certifier: Certifier = "caller",
): GrantPlan {
  const { userId } = input;
  const at = iso(deps.now);
  const tenancy = actor.role === "super_admin" ? sql`1` : sql`${skills.makerspaceId} = ${actor.makerspaceId}`;
  const certified = input.status === "certified";
  // Without an explicit expires_at, the skill's validity decides, read inside the batch.
  const fromValidity = certified && !input.expiresAt;
  const guard = sql`(${callerGuard})
    and exists (select 1 from ${skills} where ${skills.id} = ${skillId} and ${skills.status} = 'active' and ${tenancy})
    and ${certifier === "caller" ? mayCertifySql(actor, skillId, userId) : sql`1`}
    and ${fromValidity ? fixedDateOpenSql(skillId, deps.now) : sql`1`}
    and ${prerequisitesHeldSql(skillId, userId, at)}`;
  const makerspaceId = skillMakerspaceSql(skillId);
  const userSkillId = sql`(select ${userSkills.id} from ${userSkills}
    where ${userSkills.userId} = ${userId} and ${userSkills.skillId} = ${skillId})`;
  const expiresAt: string | SQL<string | null> | null = !certified
    ? null
    : fromValidity
      ? expirySql(skillId, deps.now, deps.config)
      : (input.expiresAt as string);
  const newRowId = newId("us", deps);
  const event = newEvent(deps, {
    action: "skill_granted",
    makerspaceId: "",
    userId,
    skillId,
    performedBy: input.certifiedBy,
    reason: input.reason ?? input.notes ?? null,
    metadata: {
      user_skill_id: newRowId,
      status: input.status,
      expires_at: typeof expiresAt === "string" ? expiresAt : null,
      quiz_score: input.quizScore ?? null,
      ...(input.requestId ? { request_id: input.requestId } : {}),
    },
  });
  // Before the upsert: whether a row exists yet says granted or renewed, and which id it has.
  const grantEvent = eventStatement(deps.db, event, guard, [
    ["$.action", sql`case when ${userSkillId} is null then 'skill_granted' else 'skill_renewed' end`],
    ["$.makerspace_id", makerspaceId],
    ["$.metadata.user_skill_id", sql`coalesce(${userSkillId}, ${newRowId})`],
    ...(fromValidity ? [["$.metadata.expires_at", expiresAt] as [string, SQL]] : []),
  ]);
  const renewal: SQLiteUpdateSetSource<typeof userSkills> = {
    status: input.status,
    certifiedAt: certified ? at : null,
    expiresAt,
    certifiedBy: input.certifiedBy,
    updatedAt: at,
  };
  if (input.notes !== undefined) renewal.notes = input.notes;
  if (input.quizScore !== undefined) renewal.quizScore = input.quizScore;
  const upsert = insertWhere(
    deps.db,
    userSkills,
    {
      id: newRowId,
      userId,
      skillId,
      makerspaceId,
      status: input.status,
      certifiedAt: certified ? at : null,
      expiresAt,
      certifiedBy: input.certifiedBy,
      notes: input.notes ?? null,
      quizScore: input.quizScore ?? null,
      createdAt: at,
      updatedAt: at,
    },
    guard,
  ).onConflictDoUpdate({ target: [userSkills.userId, userSkills.skillId], set: renewal });
  const applied = sql`exists (select 1 from ${auditOutbox} where ${auditOutbox.id} = ${event.id})`;
  return {
    // After the upsert: the certification adds (or moves) an entry on the skill's items' lists.
    statements: [grantEvent, upsert, ...allowlistBumps(deps, { skillIds: [skillId] }, applied)],
    applied,
    userSkillId,
    makerspaceId,
    event,
  };
}

/** What a caller adds to a certification's unit of work. */
export interface CertifyOptions<T> {
  /** A condition the grant is tied to (an approval: the request is still pending); default always. */
  guard?: SQL;
  /**
   * Statements that commit with the grant, and only when it applies (`plan.applied`), with the
   * ids of the audit events among them (built with {@link eventStatement}).
   */
  companions?: (plan: GrantPlan) => { statements: Statement[]; eventIds: string[] };
  /** The read the caller answers with, run in the same batch after the write. */
  readBack: (plan: GrantPlan) => Statement;
  /** When the batch did not apply, the refusals that depend on the state read (already certified…). */
  inspect?: (state: CertificationState) => void;
  /** With prerequisites missing: `throw` 409 (default), or `skip` and return null (auto-approval). */
  missingPrerequisites?: "throw" | "skip";
  /**
   * A `fixed_date` skill whose date has passed, without an explicit `expires_at`: `throw` 409
   * `invalid_state` (default, `expiryFor`), or `skip` and return null (auto-approval).
   */
  fixedDatePassed?: "throw" | "skip";
  /** Who certifies (default `caller`: an admin, or an instructor of the skill for someone else). */
  certifier?: Certifier;
  /** When the batch did not apply, from its read-back: throw when trying again is pointless. */
  notApplied?: (readBack: T[]) => void;
}

export interface Certified<T> {
  /** A new row (201) rather than a renewal (200). */
  created: boolean;
  /** The read-back's rows, as of the commit. */
  rows: T[];
}

/**
 * One certification written as one unit of work, for every path that grants (POST
 * /skills/user-skills, an approval, an auto-approval): ONE batch writes the row, its audit event
 * and the caller's companions — all conditional on the grant rules — and reads back the caller's
 * answer, the user's certifications and the events as written. The KV entry is rebuilt from those
 * rows, and the events go to the queue off the response path. One D1 round trip when it applies.
 *
 * When it did not apply, one read finds out why and answers it (404, 403 for a caller who may not
 * certify, 409 `invalid_state`, `prerequisites_not_met`, 409 `invalid_state` for a fixed date that
 * has passed, or the caller's own refusals). If every rule holds again by then (it
 * changed between the batch and the read), the batch is tried again; after MAX_GRANT_ATTEMPTS it
 * gives up with 503 `unavailable` and `Retry-After: 1`: nothing was written, and asking again will
 * likely succeed.
 */
export async function certify<T>(
  deps: Deps,
  actor: Principal,
  skillId: string,
  input: GrantInput,
  options: CertifyOptions<T>,
): Promise<Certified<T> | null> {
  const certifier = options.certifier ?? "caller";
  // The member's makerspace: the caller's, or (a super_admin's call) the skill's.
  const memberOf = actor.makerspaceId ?? skillMakerspaceSql(skillId);
  for (let attempt = 0; attempt < MAX_GRANT_ATTEMPTS; attempt++) {
    const plan = planGrant(deps, actor, skillId, input, options.guard ?? ALWAYS, certifier);
    const extra = options.companions?.(plan) ?? { statements: [], eventIds: [] };
    const eventIds = [plan.event.id, ...extra.eventIds];
    const results = await runBatch(deps.db, [
      ...plan.statements,
      ...extra.statements,
      options.readBack(plan),
      certificationsQuery(deps.db, { makerspaceId: memberOf, userId: input.userId }),
      deps.db
        .select({ id: auditOutbox.id, payload: auditOutbox.payload })
        .from(auditOutbox)
        .where(sql`${auditOutbox.id} in ${valuesOf(eventIds)}`),
    ]);
    const [rows, certifications, written] = results.slice(-3) as [T[], CachedCertification[], WrittenEvent[]];
    if (changesOf(results[0]) === 1) {
      const events = writtenInOrder(eventIds, written);
      const removesAccess = !certifications.some(
        (c) => c.skill_id === skillId && isUnexpired(c.expires_at, iso(deps.now)), // stored certified rows
      );
      const makerspaceId = events[0]?.makerspace_id ?? actor.makerspaceId ?? "";
      await syncCertificationCache(deps, { makerspaceId, userId: input.userId }, certifications, { removesAccess });
      publishCommitted(deps, events);
      return { created: events[0]?.action === "skill_granted", rows };
    }
    const state = await certificationState(
      deps,
      actor,
      skillId,
      input.userId,
      certifier === "caller" ? (skill) => assertMayCertify(deps, actor, skill.id, input.userId) : undefined,
    );
    options.inspect?.(state);
    if (state.missingPrerequisites.length > 0) {
      if (options.missingPrerequisites === "skip") return null;
      throw prerequisitesNotMet(state.missingPrerequisites);
    }
    if (input.status === "certified" && !input.expiresAt) {
      const validity = validityOf(state.skill, deps.config);
      if (options.fixedDatePassed === "skip" && fixedDatePassed(validity, deps.now)) return null;
      expiryFor(validity, deps.now, input.expiresAt); // 409 once a fixed date has passed
    }
    options.notApplied?.(rows);
  }
  throw new AppError(
    "unavailable",
    "Concurrent changes kept this certification from being written; nothing was changed, retry",
    {},
    { retryAfterSeconds: 1 },
  );
}

interface WrittenEvent {
  id: string;
  payload: string;
}

function writtenInOrder(ids: string[], written: WrittenEvent[]): AuditEvent[] {
  const byId = new Map(written.map((w) => [w.id, JSON.parse(w.payload) as AuditEvent]));
  return ids.map((id) => byId.get(id)).filter((e): e is AuditEvent => e !== undefined);
}

/** The user's row for the skill, by (user, skill): what a grant's read-back selects on. */
export function userSkillOf(userId: string, skillId: string): SQL | undefined {
  return and(eq(userSkills.userId, userId), eq(userSkills.skillId, skillId));
}

/**
 * The grant rules as SQL, evaluated inside the write's batch: the skill is still active and the
 * user still holds every prerequisite certified and unexpired. A prerequisite revoked (or the
 * skill archived) between the checks above and the batch therefore stops the grant. The skill and
 * user are values, or SQL expressions when many rows are written by one statement (imports).
 */
export function grantPreconditions(skillId: string | SQL, userId: string | SQL, nowIso: string): SQL {
  return sql`(exists (select 1 from ${skills} where ${skills.id} = ${skillId} and ${skills.status} = 'active')
    and ${prerequisitesHeldSql(skillId, userId, nowIso)})`;
}

/** SQL: the user holds every prerequisite of the skill in force at `nowIso` ({@link inForceSql}). */
function prerequisitesHeldSql(skillId: string | SQL, userId: string | SQL, nowIso: string): SQL {
  const p = skillPrerequisites;
  return sql`not exists (select 1 from ${p} where ${p.skillId} = ${skillId}
    and not exists (select 1 from ${userSkills} where ${userSkills.userId} = ${userId}
      and ${userSkills.skillId} = ${p.prerequisiteId} and ${inForceSql(nowIso)}))`;
}

/** SQL: the makerspace of the skill, read inside the batch. */
function skillMakerspaceSql(skillId: string): SQL {
  return sql`(select ${skills.makerspaceId} from ${skills} where ${skills.id} = ${skillId})`;
}

/**
 * The `skill_granted` / `skill_renewed` event of a grant, an approval or an imported row: one
 * shape wherever the certification comes from (`extra` adds to its metadata, e.g. the import).
 */
export function grantEvent(
  deps: Pick<Deps, "now" | "shard">,
  skill: Pick<SkillRow, "id" | "makerspaceId">,
  input: GrantInput,
  outcome: { userSkillId: string; renewal: boolean; expiresAt: string | null; extra?: Record<string, unknown> },
): AuditEvent {
  return newEvent(deps, {
    action: outcome.renewal ? "skill_renewed" : "skill_granted",
    makerspaceId: skill.makerspaceId,
    userId: input.userId,
    skillId: skill.id,
    performedBy: input.certifiedBy,
    reason: input.reason ?? input.notes ?? null,
    metadata: {
      user_skill_id: outcome.userSkillId,
      status: input.status,
      expires_at: outcome.expiresAt,
      quiz_score: input.quizScore ?? null,
      ...(input.requestId ? { request_id: input.requestId } : {}),
      ...outcome.extra,
    },
  });
}
