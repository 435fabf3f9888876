/**
 * Part of `npm run typecheck`: every query names its tables and columns through the Drizzle schema
 * (src/platform/db/schema.ts), never as text. It reads every string and template piece of the
 * Worker's source (src/, the kiosk's browser code and the generated bundle aside) and fails on one
 * that names a table of the schema the way SQL does: after `from`, `join`, `into`, `update`,
 * `table` or `exists`, or qualifying a column (`user_skills.id`). Before it reads the source it
 * holds itself to known offenders and known innocents, so a check that stopped seeing would fail.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import ts from "typescript";
import * as schema from "../src/platform/db/schema";

const tables = (Object.values(schema) as unknown[])
  .filter((value): value is SQLiteTable => is(value, SQLiteTable))
  .map((table) => getTableName(table));

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const names = tables.map(escapeRegExp).join("|");
const NAMING = [
  new RegExp(`\\b(from|join|into|table|exists)\\s+["\`'\\[]?(${names})(?![A-Za-z0-9_])`, "i"),
  new RegExp(`\\bupdate\\s+["\`'\\[]?(${names})["\`'\\]]?\\s+set\\b`, "i"),
  new RegExp(`(?<![A-Za-z0-9_-])["\`]?(${names})["\`]?\\s*\\.\\s*["\`]?[a-z_]+`, "i"),
];

/** The first way `text` names a table as SQL does, or null. */
export function namedTable(text: string): string | null {
  for (const re of NAMING) {
    const m = re.exec(text);
    if (m) return m[0];
  }
  return null;
}

/** The text of every string literal and template piece in a TypeScript source. */
function literals(file: string, source: string): { line: number; text: string }[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node) => {
    // Module specifiers (`./equipment.schemas`) are paths, not SQL.
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      out.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, text: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return path.endsWith(join("kiosk", "browser")) ? [] : sourceFiles(path);
    return /\.tsx?$/.test(entry) && !entry.endsWith(".generated.ts") ? [path] : [];
  });
}

const problems: string[] = [];

// The check itself: what it must see, and what it must let through.
const offenders = [
  "select 1 from user_skills u where u.user_id = ",
  "insert into audit_outbox (id, payload)",
  "update certification_reminders set dispatched_at = ",
  " and skill_requests.status = 'pending'",
  'select count(*) as n from "audit_dead_letters"',
  "left join skill_prerequisites p on p.skill_id = ",
  "update user_skills set status = ",
];
const innocents = [
  "user_skills:", // a KV key prefix
  "Skill not found",
  "/api/v1/skills/{id}",
  "equipment_not_found",
  "Update equipment",
  "The skills a member holds, from the user-skills cache",
];
for (const text of offenders) if (!namedTable(text)) problems.push(`self-check: not seen in ${JSON.stringify(text)}`);
for (const text of innocents) if (namedTable(text)) problems.push(`self-check: flagged ${JSON.stringify(text)}`);
if (tables.length < 10) problems.push(`self-check: only ${tables.length} tables found in the schema`);

const root = join(import.meta.dirname, "..");
for (const file of sourceFiles(join(root, "src"))) {
  for (const { line, text } of literals(file, readFileSync(file, "utf8"))) {
    const hit = namedTable(text);
    if (hit) problems.push(`${relative(root, file)}:${line}: names a table in a string (${JSON.stringify(hit)})`);
  }
}

if (problems.length > 0) {
  console.error("SQL must name tables through src/platform/db/schema.ts:");
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
