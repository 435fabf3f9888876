import { asc, inArray, lt } from "drizzle-orm";
import type { Deps } from "../context";
import { skillAuditLogs } from "../db/schema";
import { addDays, iso } from "../lib/time";

export interface RetentionOptions {
  batchSize?: number;
  maxBatches?: number;
}

export interface RetentionSummary {
  deleted: number;
  cutoff: string;
  /** True when the run stopped on its budget with old rows possibly left (the next run goes on). */
  more: boolean;
}

/**
 * Deletes audit rows older than `SKILL_AUDIT_RETENTION_DAYS`, oldest first, a bounded number per
 * statement so no single D1 query runs long or locks the table for other writers.
 */
export async function purgeOldAuditLogs(deps: Deps, opts: RetentionOptions = {}): Promise<RetentionSummary> {
  const { batchSize = 1000, maxBatches = 50 } = opts;
  const cutoff = iso(addDays(deps.now, -deps.config.SKILL_AUDIT_RETENTION_DAYS));
  let deleted = 0;
  for (let i = 0; i < maxBatches; i += 1) {
    const oldest = deps.db
      .select({ id: skillAuditLogs.id })
      .from(skillAuditLogs)
      .where(lt(skillAuditLogs.createdAt, cutoff))
      .orderBy(asc(skillAuditLogs.createdAt))
      .limit(batchSize);
    const result = await deps.db.delete(skillAuditLogs).where(inArray(skillAuditLogs.id, oldest)).run();
    deleted += result.meta.changes;
    if (result.meta.changes < batchSize) return { deleted, cutoff, more: false };
  }
  return { deleted, cutoff, more: true };
}
