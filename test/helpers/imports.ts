import { type CallOptions, callJson } from "./http";
import { allOnEveryShard } from "./shards";
import { admin } from "./tokens";

export interface ImportResultBody {
  dry_run: boolean;
  created: number;
  renewed: number;
  unchanged: number;
  failed: number;
  errors: { row: number; column?: string; message: string }[];
}

/** POST /skills/user-skills/import with a CSV body (as `curl --data-binary @file` sends it). */
export async function importCsv(
  csv: string | Uint8Array,
  opts: { dryRun?: boolean; query?: string; token?: string } & Pick<CallOptions, "env" | "headers"> = {},
) {
  const query = opts.query ?? `dry_run=${opts.dryRun ? "true" : "false"}`;
  return callJson<ImportResultBody>("POST", `/api/v1/skills/user-skills/import?${query}`, {
    token: opts.token ?? (await admin()),
    rawBody: csv,
    headers: { "content-type": "text/csv", ...opts.headers },
    ...(opts.env ? { env: opts.env } : {}),
  });
}

/** Events an import left in the outbox or the log, by action (the consumer moves them between the two). */
export async function importEvents(importId?: string): Promise<Record<string, number>> {
  const rows = await allOnEveryShard<{ action: string; import_id: string | null }>(
    `select json_extract(payload, '$.action') as action, json_extract(payload, '$.metadata.import_id') as import_id
       from audit_outbox
     union all
     select action, json_extract(metadata, '$.import_id') from skill_audit_logs`,
  );
  const counts: Record<string, number> = {};
  for (const r of rows) {
    if (r.import_id === null || (importId !== undefined && r.import_id !== importId)) continue;
    counts[r.action] = (counts[r.action] ?? 0) + 1;
  }
  return counts;
}
