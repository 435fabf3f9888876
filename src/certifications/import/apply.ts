import { type SQL, sql } from "drizzle-orm";
import { allowlistBumps } from "../../access/allowlist-versions";
import type { AuditEvent } from "../../audit/events";
import type { Deps } from "../../platform/context";
import { insertFrom, runBatch, type Statement } from "../../platform/db/client";
import { JSON_PARAM_MAX_BYTES, jsonBytes, jsonChunks } from "../../platform/db/json-chunks";
import { auditOutbox, userSkills } from "../../platform/db/schema";
import { grantEvent, grantPreconditions } from "../grants";
import type { PlannedWrite } from "./plan";

/** Statements and bound JSON per D1 batch: each batch is one round trip, applied atomically. */
const BATCH_MAX_STATEMENTS = 40;
const BATCH_MAX_BYTES = 900_000;

export interface AppliedWrite {
  write: PlannedWrite;
  event: AuditEvent;
}

export interface ApplyResult {
  applied: AppliedWrite[];
  /** Writes whose rule stopped holding between the read and the write (a concurrent change). */
  skipped: PlannedWrite[];
}

interface Chunk {
  statements: Statement[];
  /** Which statement returns the ids of the rows it wrote. */
  returning: number;
  bytes: number;
  writes: PlannedWrite[];
}

/**
 * Writes the planned rows with their `skill_granted` / `skill_renewed` outbox events. Each chunk
 * of rows is one INSERT … SELECT or UPDATE … FROM over `json_each` of one JSON parameter, under the
 * grant rules evaluated in SQL row by row (`grantPreconditions`, as a single grant does), and its
 * events go in the same D1 batch under the same condition — a row and its event commit together.
 * Chunks run in level order (see `PlannedWrite.level`), so a row granted by the file is stored
 * before a row that needs it as a prerequisite is checked. Each D1 batch ends with the allow-list
 * version bump (`allowlistBumps`) of the items linked to the skills it wrote.
 */
export async function applyImport(
  deps: Deps,
  writes: PlannedWrite[],
  ctx: { makerspaceId: string; actor: string; importId: string },
): Promise<ApplyResult> {
  const at = deps.now.toISOString();
  const events = new Map<PlannedWrite, AuditEvent>();
  for (const w of writes) {
    events.set(
      w,
      grantEvent(
        deps,
        w.skill,
        { userId: w.userId, status: w.status, certifiedBy: ctx.actor, notes: w.notes, quizScore: w.quizScore },
        {
          userSkillId: w.userSkillId,
          renewal: w.kind === "renewed",
          expiresAt: w.expiresAt,
          extra: { import_id: ctx.importId, row: w.row },
        },
      ),
    );
  }

  const chunks: Chunk[] = [];
  const levels = [...new Set(writes.map((w) => w.level))].sort((a, b) => a - b);
  for (const level of levels) {
    for (const kind of ["renewed", "created"] as const) {
      const rows = writes.filter((w) => w.level === level && w.kind === kind);
      // Both of a chunk's JSON parameters (rows, events) must fit: sized by their sum.
      const sizeOf = (w: PlannedWrite) => jsonBytes(rowJson(w)) + jsonBytes(outboxJson(w, events.get(w) as AuditEvent));
      for (const part of jsonChunks(rows, JSON_PARAM_MAX_BYTES, sizeOf)) {
        chunks.push(chunkFor(deps, kind, part, events, { ...ctx, at }));
      }
    }
  }

  const applied: AppliedWrite[] = [];
  const skipped: PlannedWrite[] = [];
  let batch: Chunk[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    // The allow-list versions of the items linked to the batch's skills move in the same batch,
    // after its writes (one statement, whichever rows applied: an extra bump is only a refetch).
    // The bump is a Drizzle update builder, which is an SQLWrapper (typed as a batch item).
    const skillIds = [...new Set(batch.flatMap((c) => c.writes.map((w) => w.skill.id)))];
    const results = await runBatch(deps.db, [
      ...batch.flatMap((c) => c.statements),
      ...allowlistBumps(deps, { skillIds }),
    ]);
    let offset = 0;
    for (const c of batch) {
      const written = new Set(((results[offset + c.returning] ?? []) as { id: string }[]).map((r) => r.id));
      for (const w of c.writes) {
        if (written.has(w.userSkillId)) applied.push({ write: w, event: events.get(w) as AuditEvent });
        else skipped.push(w);
      }
      offset += c.statements.length;
    }
    batch = [];
  };
  for (const chunk of chunks) {
    const statements = batch.reduce((n, c) => n + c.statements.length, 0);
    const bytes = batch.reduce((n, c) => n + c.bytes, 0);
    if (statements + chunk.statements.length > BATCH_MAX_STATEMENTS || bytes + chunk.bytes > BATCH_MAX_BYTES)
      await flush();
    batch.push(chunk);
  }
  await flush();
  return { applied, skipped };
}

/** The row's values as the write statements read them (`json_extract(j.value, '$.…')`). */
function rowJson(w: PlannedWrite) {
  return {
    id: w.userSkillId,
    u: w.userId,
    s: w.skill.id,
    st: w.status,
    ca: w.certifiedAt,
    ea: w.expiresAt,
    ...(w.notes !== undefined ? { n: w.notes } : {}),
    ...(w.quizScore !== undefined ? { q: w.quizScore } : {}),
  };
}

/** The outbox row of a write's event, with what its condition reads. */
function outboxJson(w: PlannedWrite, event: AuditEvent) {
  return { id: event.id, us: w.userSkillId, s: w.skill.id, u: w.userId, p: JSON.stringify(event) };
}

const field = (name: string) => sql.raw(`json_extract(j.value, '$.${name}')`);

/**
 * A new row is inserted unless the user got one meanwhile (`on conflict do nothing`), and its
 * event follows when the row exists; a renewal's event goes first, under the same rules as the
 * update that follows it, so both happen or neither does.
 */
function chunkFor(
  deps: Pick<Deps, "db">,
  kind: "created" | "renewed",
  writes: PlannedWrite[],
  events: Map<PlannedWrite, AuditEvent>,
  ctx: { makerspaceId: string; actor: string; at: string },
): Chunk {
  const rows = JSON.stringify(writes.map(rowJson));
  const outbox = JSON.stringify(writes.map((w) => outboxJson(w, events.get(w) as AuditEvent)));
  const rules: SQL = grantPreconditions(field("s"), field("u"), ctx.at);
  const u = userSkills;
  const written = sql`exists (select 1 from ${u} where ${u.id} = ${field("us")})`;
  const outboxRows = (condition: SQL) =>
    insertFrom(
      deps.db,
      auditOutbox,
      { id: field("id"), payload: field("p"), createdAt: ctx.at, attempts: 0 },
      sql`from json_each(${outbox}) j where ${condition}`,
    );
  const statements: Statement[] =
    kind === "created"
      ? [
          insertFrom(
            deps.db,
            u,
            {
              id: field("id"),
              userId: field("u"),
              skillId: field("s"),
              makerspaceId: ctx.makerspaceId,
              status: field("st"),
              certifiedAt: field("ca"),
              expiresAt: field("ea"),
              certifiedBy: ctx.actor,
              notes: field("n"),
              quizScore: field("q"),
              createdAt: ctx.at,
              updatedAt: ctx.at,
            },
            sql`from json_each(${rows}) j where ${rules}`,
          )
            .onConflictDoNothing({ target: [u.userId, u.skillId] })
            .returning({ id: u.id }),
          outboxRows(written),
        ]
      : [
          outboxRows(sql`${written} and ${rules}`),
          deps.db
            .update(u)
            .set({
              status: sql`${field("st")}`,
              certifiedAt: field("ca"),
              expiresAt: field("ea"),
              certifiedBy: ctx.actor,
              updatedAt: ctx.at,
              notes: sql`case when json_type(j.value, '$.n') is null then ${u.notes} else ${field("n")} end`,
              quizScore: sql`case when json_type(j.value, '$.q') is null then ${u.quizScore} else ${field("q")} end`,
            })
            .from(sql`json_each(${rows}) j`)
            .where(sql`${u.id} = ${field("id")} and ${rules}`)
            .returning({ id: u.id }),
        ];
  return { statements, returning: kind === "created" ? 0 : 1, bytes: rows.length + outbox.length, writes };
}
