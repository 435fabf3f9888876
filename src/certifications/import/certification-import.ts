import { newEvent } from "../../audit/events";
import { outboxStatements, publishCommitted } from "../../audit/producer";
import type { Principal } from "../../identity/principal";
import type { Deps } from "../../platform/context";
import { runBatch } from "../../platform/db/client";
import { validationError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { errorText } from "../../platform/logger";
import { iso } from "../../platform/time";
import { forgetCachedCertifications } from "../cache";
import { applyImport } from "./apply";
import { loadImportData } from "./load";
import { planImport } from "./plan";
import { parseImport, type RowError } from "./rows";
import type { ImportResult } from "./schemas";

/**
 * Users whose KV entries an import drops before it answers. Workers allow 1,000 KV operations per
 * invocation; past this many users the audit consumer drops the entries of imported rows instead
 * (a few seconds later), see `forgetImportedUsers` in src/audit/consumer.ts.
 */
export const IMPORT_KV_SYNC_USERS = 250;

const NOT_APPLIED = "Not applied: the skill or a prerequisite changed during the import; import the file again";

/**
 * POST /skills/user-skills/import. Parses the CSV (422 for a broken file), judges every row by the
 * grant rules against the stored certifications and the earlier rows of the file, and — unless a
 * dry run — writes the valid rows with one audit event each plus one `certifications_imported`
 * summary. About ten D1 round trips for 10,000 rows: three reads, then batches of bulk statements.
 */
export async function importCertifications(
  deps: Deps,
  actor: Principal,
  makerspaceId: string,
  body: ArrayBuffer,
  dryRun: boolean,
): Promise<ImportResult> {
  const parsed = parseImport(decodeUtf8(body), iso(deps.now));
  const { skills, stored } = await loadImportData(deps, makerspaceId, parsed.rows);
  const plan = planImport(parsed.rows, {
    config: deps.config,
    now: deps.now,
    skills,
    stored,
    newId: () => newId("us", deps),
  });
  const errors: RowError[] = [...parsed.errors, ...plan.errors];
  if (dryRun) {
    const created = plan.writes.filter((w) => w.kind === "created").length;
    return result(true, created, plan.writes.length - created, plan.unchanged, errors);
  }

  const importId = newId("imp", deps);
  const { applied, skipped } = await applyImport(deps, plan.writes, { makerspaceId, actor: actor.sub, importId });
  errors.push(...skipped.map((w) => ({ row: w.row, message: NOT_APPLIED })));
  const created = applied.filter((a) => a.write.kind === "created").length;
  const outcome = result(false, created, applied.length - created, plan.unchanged, errors);

  const summary = newEvent(deps, {
    action: "certifications_imported",
    makerspaceId,
    performedBy: actor.sub,
    metadata: {
      import_id: importId,
      rows: parsed.records,
      created: outcome.created,
      renewed: outcome.renewed,
      unchanged: outcome.unchanged,
      failed: outcome.failed,
    },
  });
  await runBatch(deps.db, outboxStatements(deps.db, [summary]));
  publishCommitted(deps, [...applied.map((a) => a.event), summary]);

  const users = [...new Set(applied.map((a) => a.write.userId))].map((userId) => ({ makerspaceId, userId }));
  if (users.length <= IMPORT_KV_SYNC_USERS) {
    await forgetCachedCertifications(deps, users).catch((err: unknown) => {
      deps.logger.warn("user-skills cache entries not dropped after import", { error: errorText(err) });
    });
  }
  return outcome;
}

function result(
  dryRun: boolean,
  created: number,
  renewed: number,
  unchanged: number,
  errors: RowError[],
): ImportResult {
  const sorted = [...errors].sort((a, b) => a.row - b.row);
  return {
    dry_run: dryRun,
    created,
    renewed,
    unchanged,
    failed: new Set(sorted.map((e) => e.row)).size,
    errors: sorted,
  };
}

function decodeUtf8(body: ArrayBuffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw validationError([{ path: "body", message: "must be UTF-8 text" }], "The CSV is not valid");
  }
}
