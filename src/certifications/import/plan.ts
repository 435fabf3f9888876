import type { Config } from "../../platform/config";
import type { SkillRow } from "../../platform/db/schema";
import type { CertificationRow } from "../row";
import { isInForce, isUnexpired } from "../rules";
import { importedExpiresAt } from "./imported-expiry";
import type { ImportRow, RowError } from "./rows";

/** What an import needs to know of a stored certification. */
export type StoredCertification = Pick<
  CertificationRow,
  "id" | "user_id" | "skill_id" | "status" | "certified_at" | "expires_at" | "notes" | "quiz_score"
>;

export interface ImportSkills {
  byId: Map<string, SkillRow>;
  /** Keyed by `lower(name)`: names are unique per makerspace ignoring case. */
  byName: Map<string, SkillRow>;
  /** Each skill's prerequisites (id and name). */
  prerequisites: Map<string, { id: string; name: string }[]>;
}

/** A row's write: an insert (created) or an update of the stored row (renewed). */
export interface PlannedWrite {
  row: number;
  kind: "created" | "renewed";
  userSkillId: string;
  userId: string;
  skill: SkillRow;
  status: "certified" | "pending";
  certifiedAt: string | null;
  expiresAt: string | null;
  /** Undefined keeps the stored value (a blank cell never clears one). */
  notes?: string;
  quizScore?: string;
  /**
   * Statement order: a write runs after every earlier write its grant rule reads (a prerequisite
   * granted earlier in the file) and after every earlier rule that reads what it changes, so
   * rows applied by one statement never depend on each other.
   */
  level: number;
}

export interface ImportPlan {
  writes: PlannedWrite[];
  unchanged: number;
  errors: RowError[];
}

export const pairKey = (userId: string, skillId: string) => `${userId}\u0000${skillId}`;

interface PlanContext {
  config: Pick<Config, "SKILL_CERTIFICATION_EXPIRY_DAYS">;
  now: Date;
  skills: ImportSkills;
  /** Stored certifications of the file's users for the file's skills and their prerequisites. */
  stored: Map<string, StoredCertification>;
  newId: () => string;
}

/**
 * The grant rules applied row by row in file order, as if each row were `POST /user-skills`
 * after the rows before it: the skill is active in the makerspace, and every prerequisite is held
 * certified and unexpired — stored, or granted by an earlier row of the file. Each user and skill
 * may appear once. A row that asks for what is already stored is `unchanged` (no write, no event),
 * which is what makes a second import of the same file change nothing.
 */
export function planImport(rows: ImportRow[], ctx: PlanContext): ImportPlan {
  const nowIso = ctx.now.toISOString();
  const state = new Map(ctx.stored);
  const firstRow = new Map<string, number>();
  const lastWriteLevel = new Map<string, number>();
  const readLevel = new Map<string, number>();
  const writes: PlannedWrite[] = [];
  const errors: RowError[] = [];
  let unchanged = 0;

  for (const row of rows) {
    const skill = resolveSkill(row, ctx.skills, errors);
    if (!skill) continue;
    const key = pairKey(row.userId, skill.id);
    const earlier = firstRow.get(key);
    if (earlier !== undefined) {
      errors.push({ row: row.row, message: `user ${row.userId} and this skill are already in row ${earlier}` });
      continue;
    }
    firstRow.set(key, row.row);
    const prerequisites = ctx.skills.prerequisites.get(skill.id) ?? [];
    const missing = prerequisites
      .filter((p) => {
        const held = state.get(pairKey(row.userId, p.id));
        return !(held !== undefined && isInForce(held, nowIso));
      })
      .map((p) => p.name)
      .sort((a, b) => a.localeCompare(b));
    if (missing.length > 0) {
      errors.push({ row: row.row, message: `Prerequisites not met: ${missing.join(", ")}` });
      continue;
    }

    const stored = state.get(key);
    const target = targetOf(row, skill, ctx);
    if (stored && isUnchanged(row, stored, target, nowIso)) {
      unchanged += 1;
      continue;
    }
    if (target.error !== undefined) {
      errors.push({ row: row.row, column: "expires_at", message: target.error });
      continue;
    }
    const reads = prerequisites.map((p) => lastWriteLevel.get(pairKey(row.userId, p.id)) ?? -1);
    const level = Math.max(0, ...reads.map((l) => l + 1), (readLevel.get(key) ?? -1) + 1);
    lastWriteLevel.set(key, level);
    for (const p of prerequisites) {
      const k = pairKey(row.userId, p.id);
      readLevel.set(k, Math.max(readLevel.get(k) ?? -1, level));
    }
    const write: PlannedWrite = {
      row: row.row,
      kind: stored ? "renewed" : "created",
      userSkillId: stored?.id ?? ctx.newId(),
      userId: row.userId,
      skill,
      status: row.status,
      certifiedAt: target.certifiedAt,
      expiresAt: target.expiresAt,
      level,
      ...(row.notes !== undefined ? { notes: row.notes } : {}),
      ...(row.quizScore !== undefined ? { quizScore: row.quizScore } : {}),
    };
    writes.push(write);
    state.set(key, {
      id: write.userSkillId,
      user_id: write.userId,
      skill_id: skill.id,
      status: write.status,
      certified_at: write.certifiedAt,
      expires_at: write.expiresAt,
      notes: write.notes ?? stored?.notes ?? null,
      quiz_score: write.quizScore ?? stored?.quiz_score ?? null,
    });
  }
  return { writes, unchanged, errors };
}

function resolveSkill(row: ImportRow, skills: ImportSkills, errors: RowError[]): SkillRow | undefined {
  const byId = row.skillId !== undefined ? skills.byId.get(row.skillId) : undefined;
  const byName = row.skillName !== undefined ? skills.byName.get(row.skillName.toLowerCase()) : undefined;
  if (row.skillId !== undefined && !byId) {
    errors.push({ row: row.row, column: "skill_id", message: "Skill not found" });
    return undefined;
  }
  if (row.skillId === undefined && !byName) {
    errors.push({ row: row.row, column: "skill_name", message: "Skill not found" });
    return undefined;
  }
  if (byId && row.skillName !== undefined && byName?.id !== byId.id) {
    errors.push({ row: row.row, column: "skill_name", message: `is not the name of skill ${byId.id}` });
    return undefined;
  }
  const skill = (byId ?? byName) as SkillRow;
  if (skill.status !== "active") {
    errors.push({
      row: row.row,
      column: row.skillId !== undefined ? "skill_id" : "skill_name",
      message: `Skill is ${skill.status}, not active`,
    });
    return undefined;
  }
  return skill;
}

/** What a row writes; `error` when its expiry cannot be set (a `fixed_date` skill past its date). */
interface Target {
  certifiedAt: string | null;
  expiresAt: string | null;
  error?: string;
}

/**
 * What the row writes. A certified row without `certified_at` is certified now; without
 * `expires_at` it expires by the skill's validity (`expiryFor`, as a grant does), counted from
 * `certified_at` when the file gives one.
 */
function targetOf(row: ImportRow, skill: SkillRow, ctx: PlanContext): Target {
  if (row.status === "pending") return { certifiedAt: null, expiresAt: null };
  const certifiedAt = row.certifiedAt ?? ctx.now.toISOString();
  const from = row.certifiedAt ? new Date(row.certifiedAt) : ctx.now;
  const expiry = importedExpiresAt(ctx.config, skill, from, row.expiresAt);
  return "error" in expiry ? { certifiedAt, expiresAt: null, error: expiry.error } : { certifiedAt, ...expiry };
}

/**
 * The stored row already is what the row asks for: the same status, every value the file gives
 * equal, and — when the file leaves both dates blank — a certification still in force (blank
 * dates ask for "certified", not for a new expiry on every import).
 */
function isUnchanged(row: ImportRow, stored: StoredCertification, target: Target, nowIso: string): boolean {
  if (stored.status !== row.status) return false;
  if (row.notes !== undefined && stored.notes !== row.notes) return false;
  if (row.quizScore !== undefined && stored.quiz_score !== row.quizScore) return false;
  if (row.status === "pending") return true;
  if (row.certifiedAt !== undefined && stored.certified_at !== row.certifiedAt) return false;
  if (row.expiresAt !== undefined || row.certifiedAt !== undefined) {
    return target.error === undefined && stored.expires_at === target.expiresAt;
  }
  return isUnexpired(stored.expires_at, nowIso);
}
