import { and, type Column, eq, getTableColumns, gt, lt, or, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect, type SQLiteTable } from "drizzle-orm/sqlite-core";

/**
 * Drizzle over D1, without the `schema` option: no code uses the relational `db.query.*` API,
 * and building an instance with a schema walks all of it (≈ 0.12 ms here, against ≈ 3 µs
 * without), which a per-request instance over a D1 session could not afford.
 */
export type Db = DrizzleD1Database;
export type Statement = BatchItem<"sqlite">;

/** What Drizzle needs of D1: a binding, or a session of one (`withSession`). */
export type D1Queryable = Pick<D1Database, "prepare" | "batch">;

const instances = new WeakMap<D1Queryable, Db>();

/**
 * One Drizzle instance per D1 binding or session. A session goes where Drizzle expects a
 * D1Database: Drizzle's D1 driver only calls `prepare` and `batch`, which a session has.
 */
export function createDb(d1: D1Queryable): Db {
  let db = instances.get(d1);
  if (!db) {
    db = drizzle(d1 as D1Database);
    instances.set(d1, db);
  }
  return db;
}

/**
 * Runs statements as one D1 batch (one round trip, applied atomically: D1 has no BEGIN).
 * Returns the per-statement results in order.
 */
export async function runBatch(db: Db, statements: Statement[]): Promise<unknown[]> {
  if (statements.length === 0) return [];
  return db.batch(statements as [Statement, ...Statement[]]);
}

/**
 * A list of values as a row source for `in` and `insert … select`: `(select value from
 * json_each(?))`. The whole list is ONE bound parameter, so a statement stays within D1's 100
 * bound parameters (and its text stays short) however long the list is.
 */
export function valuesOf(values: readonly unknown[]): SQL {
  return sql`(select value from json_each(${JSON.stringify(values)}))`;
}

/**
 * D1 binds at most 100 parameters per statement: multi-row inserts are split into chunks of
 * this many rows (each row's bound values × rows ≤ 100).
 */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** SQLite's unique-constraint failure, as D1 reports it (the message is never sent to clients). */
export function isUniqueViolation(err: unknown): boolean {
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (cur instanceof Error && !seen.has(cur)) {
    if (/UNIQUE constraint failed|SQLITE_CONSTRAINT/i.test(cur.message)) return true;
    seen.add(cur);
    cur = cur.cause;
  }
  return false;
}

/** Rows changed by one statement of a D1 batch. */
export function changesOf(result: unknown): number {
  return (result as { meta?: { changes?: number } } | undefined)?.meta?.changes ?? 0;
}

/**
 * `insert into <table> select <row> where <condition>`: the row is written only when `condition`
 * holds at that point of the batch. Values follow the table's column order; omitted columns are
 * null, so pass every column that has a default.
 */
export function insertWhere<T extends SQLiteTable>(
  db: Db,
  table: T,
  row: Partial<Record<keyof T["_"]["columns"], unknown>>,
  condition: SQL,
) {
  return insertFrom(db, table, row, sql`where ${condition}`);
}

/**
 * `insert into <table> select <row> <source>`: the row's values (SQL over the source's rows, or
 * plain values) in the table's column order, the source a `from … where …` (which SQLite needs
 * for an upsert to parse: `where true` at least). Omitted columns are null.
 */
export function insertFrom<T extends SQLiteTable>(
  db: Db,
  table: T,
  row: Partial<Record<keyof T["_"]["columns"], unknown>>,
  source: SQL,
) {
  const values = Object.keys(getTableColumns(table)).map(
    (key) => sql`${(row as Record<string, unknown>)[key] ?? null}`,
  );
  return db.insert(table).select(sql`select ${sql.join(values, sql`, `)} ${source}`);
}

const dialect = new SQLiteAsyncDialect();

/**
 * Runs hand-written `sql` statements as one D1 batch. Drizzle's own batch cannot run raw
 * statements that bind parameters, which bulk statements over `json_each` are; each result's
 * `results` holds the rows of a `returning` or `select`. Pass `deps.d1` (the shard's binding or
 * session `deps.db` is built on), so a batch made only of reads is retried like any other read.
 */
export async function runSqlBatch(d1: D1Queryable, statements: SQLWrapper[]): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  return d1.batch(
    statements.map((s) => {
      const q = dialect.sqlToQuery(s.getSQL());
      return d1.prepare(q.sql).bind(...q.params);
    }),
  );
}

/** A keyset position: the (time, id) of the last row a page or a run has seen. */
export interface Position {
  createdAt: string;
  id: string;
}

/**
 * The rows after `position` in an order by (`at`, `id`), both descending (`"desc"`: newest first)
 * or both ascending — the condition every keyset page and cursor run uses. Undefined (no
 * condition) when there is no position yet.
 */
export function pastPosition(
  at: Column,
  id: Column,
  position: Position | undefined,
  order: "asc" | "desc",
): SQL | undefined {
  if (!position) return undefined;
  const beyond = order === "desc" ? lt : gt;
  return or(beyond(at, position.createdAt), and(eq(at, position.createdAt), beyond(id, position.id)));
}
