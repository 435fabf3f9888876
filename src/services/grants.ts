import { and, eq, type SQL, sql } from "drizzle-orm";
import { type AuditEvent, newEvent } from "../audit/events";
import { guardedOutboxStatement, publishCommitted } from "../audit/producer";
import type { Principal } from "../auth/principal";
import { type CachedCertification, certificationsQuery, syncCertificationCache } from "../cache/user-skills";
import type { Deps } from "../context";
import { changesOf, insertWhere, runBatch, type Statement } from "../db/client";
import { userSkills } from "../db/schema";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { addDays, iso } from "../lib/time";
import { type CertificationState, certificationState, prerequisitesNotMet } from "./certification-state";

/** How many times a grant is re-planned after losing a race to a concurrent change. */
export const MAX_GRANT_ATTEMPTS = 3;

/** A guard that always holds: the grant applies unconditionally. */
export const ALWAYS = sql`1`;

/**
 * The grant rules as SQL, evaluated inside the write's batch: the skill is still active and the
 * user still holds every prerequisite certified and unexpired. A prerequisite revoked (or the
 * skill archived) between the checks and the batch therefore stops the grant.
 */
function grantPreconditions(skillId: string, userId: string, nowIso: string): SQL {
  return sql`(exists (select 1 from skills s where s.id = ${skillId} and s.status = 'active')
    and not exists (select 1 from skill_prerequisites p where p.skill_id = ${skillId}
      and not exists (select 1 from user_skills u where u.user_id = ${userId}
        and u.skill_id = p.prerequisite_id and u.status = 'certified'
        and (u.expires_at is null or u.expires_at > ${nowIso}))))`;
}

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

/** The statements of one grant attempt, all conditional on its guard. */
export interface GrantPlan {
  userSkillId: string;
  created: boolean;
  /** The write first (its result's `meta.changes` says whether it applied), then the event. */
  statements: Statement[];
  /** True, inside the same batch, exactly when the grant was written (for dependent statements). */
  applied: SQL;
  event: AuditEvent;
  /** The write can take access away (a certification made pending, or expiring at once). */
  removesAccess: boolean;
}

/**
 * Plans the upsert on (user_id, skill_id) from the state just read: an insert when the user has
 * no row for the skill (201), else an update of that row (a renewal, 200). Everything is
 * conditional on the grant rules (`grantPreconditions`) and on `callerGuard`, so a caller can tie
 * the grant to another state change in the same batch (an approval). No I/O.
 */
export function planGrant(deps: Deps, state: CertificationState, input: GrantInput, callerGuard: SQL): GrantPlan {
  const { skill, existing } = state;
  const at = iso(deps.now);
  const guard = sql`(${callerGuard}) and ${grantPreconditions(skill.id, input.userId, at)}`;
  const certified = input.status === "certified";
  const expiresAt = certified
    ? (input.expiresAt ?? iso(addDays(deps.now, deps.config.SKILL_CERTIFICATION_EXPIRY_DAYS)))
    : null;
  const userSkillId = existing?.id ?? newId("us");
  const event = newEvent(deps, {
    action: existing ? "skill_renewed" : "skill_granted",
    makerspaceId: skill.makerspaceId,
    userId: input.userId,
    skillId: skill.id,
    performedBy: input.certifiedBy,
    reason: input.reason ?? input.notes ?? null,
    metadata: {
      user_skill_id: userSkillId,
      status: input.status,
      expires_at: expiresAt,
      quiz_score: input.quizScore ?? null,
      ...(input.requestId ? { request_id: input.requestId } : {}),
    },
  });
  const removesAccess = !certified || (expiresAt !== null && expiresAt <= at);

  if (existing) {
    const changes: Partial<typeof userSkills.$inferInsert> = {
      status: input.status,
      certifiedAt: certified ? at : null,
      expiresAt,
      certifiedBy: input.certifiedBy,
      updatedAt: at,
    };
    if (input.notes !== undefined) changes.notes = input.notes;
    if (input.quizScore !== undefined) changes.quizScore = input.quizScore;
    // The row, not only the rules: a renewal applies only if the row it read is still there.
    const applied = sql`${guard} and exists (select 1 from user_skills where user_skills.id = ${userSkillId})`;
    return {
      userSkillId,
      created: false,
      statements: [
        deps.db
          .update(userSkills)
          .set(changes)
          .where(and(eq(userSkills.id, userSkillId), guard)),
        guardedOutboxStatement(deps.db, event, applied),
      ],
      applied,
      event,
      removesAccess,
    };
  }

  const insert = insertWhere(
    deps.db,
    userSkills,
    {
      id: userSkillId,
      userId: input.userId,
      skillId: skill.id,
      makerspaceId: skill.makerspaceId,
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
  ).onConflictDoNothing({ target: [userSkills.userId, userSkills.skillId] });
  const applied = sql`exists (select 1 from user_skills where user_skills.id = ${userSkillId})`;
  return {
    userSkillId,
    created: true,
    statements: [insert, guardedOutboxStatement(deps.db, event, applied)],
    applied,
    event,
    removesAccess,
  };
}

/** What a caller adds to a certification's unit of work. */
export interface CertifyOptions<T> {
  /** A condition the grant is tied to (an approval: the request is still pending); default always. */
  guard?: SQL;
  /** Refusals that depend on the state read (already certified, a pending request): throw here. */
  inspect?: (state: CertificationState) => void;
  /** With prerequisites missing: `throw` 409 (default), or `skip` and return null (auto-approval). */
  missingPrerequisites?: "throw" | "skip";
  /** Statements, and the events they record, that commit with the grant and only when it applies. */
  companions?: (plan: GrantPlan, state: CertificationState) => { statements: Statement[]; events: AuditEvent[] };
  /** The read the caller answers with, run in the same batch after the write. */
  readBack: (plan: GrantPlan) => Statement;
  /** After a batch that did not apply, from its read-back: throw when retrying is pointless. */
  notApplied?: (readBack: T[]) => void;
}

export interface Certified<T> {
  plan: GrantPlan;
  /** The read-back's rows, as of the commit. */
  rows: T[];
}

/**
 * One certification written as one unit of work, for every path that grants (POST
 * /skills/user-skills, an approval, an auto-approval): one query reads the skill and the user's
 * standing (404/409 from there), one batch writes the row, its audit event and the caller's
 * companions — all conditional on the grant rules still holding — and reads back both the
 * caller's answer and the user's certifications. The KV entry is rebuilt from those rows, without
 * another D1 read, and the events go to the queue off the response path.
 *
 * A batch that did not apply (an insert that lost a race to a concurrent grant, a rule that
 * stopped holding between the read and the write) is re-planned from a fresh read, which then
 * answers 409 if a rule no longer holds. After MAX_GRANT_ATTEMPTS lost races it gives up with 503
 * `unavailable` and `Retry-After: 1`: nothing was written, and asking again will likely succeed.
 */
export async function certify<T>(
  deps: Deps,
  actor: Principal,
  skillId: string,
  input: GrantInput,
  options: CertifyOptions<T>,
): Promise<Certified<T> | null> {
  for (let attempt = 0; attempt < MAX_GRANT_ATTEMPTS; attempt++) {
    const state = await certificationState(deps, actor, skillId, input.userId);
    options.inspect?.(state);
    if (state.missingPrerequisites.length > 0) {
      if (options.missingPrerequisites === "skip") return null;
      throw prerequisitesNotMet(state.missingPrerequisites);
    }
    const plan = planGrant(deps, state, input, options.guard ?? ALWAYS);
    const extra = options.companions?.(plan, state) ?? { statements: [], events: [] };
    const results = await runBatch(deps.db, [
      ...plan.statements,
      ...extra.statements,
      options.readBack(plan),
      certificationsQuery(deps.db, input.userId),
    ]);
    const rows = results[results.length - 2] as T[];
    if (changesOf(results[0]) === 1) {
      const certifications = results[results.length - 1] as CachedCertification[];
      await syncCertificationCache(deps, input.userId, certifications, { removesAccess: plan.removesAccess });
      publishCommitted(deps, [plan.event, ...extra.events]);
      return { plan, rows };
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
