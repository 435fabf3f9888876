import fc from "fast-check";
import { expect } from "vitest";
import { app } from "../../src/app";
import { type DeclaredRoute, declaredRoutes } from "../../src/http/declared";
import { onEveryShard } from "./shards";

/** Payloads attackers try first: SQL, markup, templates, traversal, header injection, odd numbers. */
export const FRAGMENTS = [
  "' OR '1'='1",
  "'; DROP TABLE skills; --",
  '" OR 1=1 --',
  "1 UNION SELECT name FROM sqlite_master",
  "%' --",
  "\\",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "{{7*7}}",
  "$" + "{7*7}",
  "../../etc/passwd",
  "\u0000",
  "a\u0000b",
  "\r\nSet-Cookie: pwned=1",
  "\u202eevil",
  "\ufeff",
  "🔥💥👩‍👩‍👧",
  "null",
  "undefined",
  "true",
  "0",
  "-1",
  "1e309",
  "NaN",
  "Infinity",
  "0x10",
  "__proto__",
  "constructor",
  " ",
] as const;

const char = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...FRAGMENTS),
  fc.tuple(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 10 })).map(([a, b]) => a + b),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: char(0, 0x1f), minLength: 1, maxLength: 20 }),
  fc.string({ unit: char(0xd800, 0xdfff), minLength: 1, maxLength: 4 }),
  // Over every length limit of the contract (100, 200, 1000 characters).
  fc.integer({ min: 101, max: 5000 }).map((n) => "x".repeat(n)),
  // Within the character limits but over KV's 512-byte key limit once UTF-8 encoded.
  fc.integer({ min: 170, max: 200 }).map((n) => "€".repeat(n)),
);

/**
 * Nested arrays or objects far deeper than any schema, within the 64 KiB body limit. Kept as
 * JSON text: fast-check's reporter recurses and would overflow printing the parsed value.
 */
export const deepJsonText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 64, max: 8000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? "[".repeat(depth) + "]".repeat(depth) : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
  );

/** Objects whose own keys would pollute prototypes if merged carelessly (as JSON text). */
export const pollutingText: fc.Arbitrary<string> = fc.constantFrom(
  '{"__proto__":{"role":"super_admin","makerspace_id":"ms-2","polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"prototype":{"polluted":true},"__proto__":null}',
);

/** A hostile JSON value, as the text that goes on the wire. */
export const hostileValueText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .oneof(
        { weight: 4, arbitrary: hostileString },
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constantFrom("12", "-1", "1.5", "1e3", "0"),
        fc.array(hostileString, { maxLength: 4 }),
        fc.array(fc.integer(), { minLength: 101, maxLength: 300 }),
        fc.dictionary(hostileString, hostileString, { maxKeys: 4 }),
        fc.jsonValue({ maxDepth: 3 }),
      )
      .map((v) => JSON.stringify(v) ?? "null"),
  },
  deepJsonText,
  pollutingText,
);

/** `base` with `key` set to the raw JSON `valueText` (first, so a later key cannot hide it). */
export function withField(base: Record<string, unknown>, key: string, valueText: string): string {
  const rest = Object.fromEntries(Object.entries(base).filter(([k]) => k !== key));
  const tail = JSON.stringify(rest).slice(1);
  return `{${JSON.stringify(key)}:${valueText}${tail === "}" ? "}" : `,${tail}`}`;
}

/** Percent-encodes as UTF-8; a lone surrogate (not encodable) is sent as the replacement character. */
function encodeSegment(s: string): string {
  return encodeURIComponent(
    s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"),
  );
}

/** A path segment: hostile text percent-encoded, or raw encodings a router might mishandle. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileString.filter((s) => s.trim().length > 0).map(encodeSegment) },
  fc.constantFrom("..", ".", "%00", "%2F", "a%2Fb", "%252e%252e", "%ZZ", "%", "%E0%A4%A", "%C0%AE", "~", "'", "*"),
);

export interface FuzzRoute {
  method: string;
  /** Hono pattern, e.g. `/api/v1/skills/:id`. */
  path: string;
  params: string[];
  doc: DeclaredRoute | undefined;
}

function keysOf(schema: unknown): string[] {
  let s = schema as { shape?: Record<string, unknown>; def?: { innerType?: unknown; in?: unknown } } | undefined;
  for (let i = 0; i < 5 && s; i++) {
    if (s.shape) return Object.keys(s.shape);
    s = (s.def?.innerType ?? s.def?.in) as typeof s;
  }
  return [];
}

export const bodyKeys = (r: FuzzRoute) => keysOf(r.doc?.body);
export const queryKeys = (r: FuzzRoute) => keysOf(r.doc?.query);

let declaredCache: DeclaredRoute[] | undefined;
const declared = () => (declaredCache ??= declaredRoutes(app));

/** Every route the app serves, read from Hono's own table so new routes are fuzzed too. */
export function appRoutes(): FuzzRoute[] {
  const seen = new Map<string, FuzzRoute>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue;
    const path = r.path.replace(/\/+$/, "") || "/";
    const key = `${r.method} ${path}`;
    if (seen.has(key)) continue;
    const template = path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const doc = declared().find((d) => d.method === r.method && d.path === template);
    seen.set(key, {
      method: r.method,
      path,
      params: [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string),
      doc,
    });
  }
  return [...seen.values()];
}

const TABLES = ["skills", "equipment", "user_skills", "skill_requests", "devices", "webhooks"] as const;

/**
 * Row counts of every table and the newest `updated_at` of each mutable one. Audit rows are
 * counted as outbox + log (the consumer moves events between them atomically); verify's
 * access_granted/access_denied events are excluded because the contract audits every verify,
 * rejected or not.
 */
export async function storeSnapshot(): Promise<Record<string, unknown>> {
  const parts = [
    ...TABLES.map((t) => `(select count(*) from ${t}) as ${t}_n, (select max(updated_at) from ${t}) as ${t}_u`),
    "(select count(*) from skill_prerequisites) as prereq_n",
    "(select count(*) from skill_equipment) as skill_eq_n",
    "(select count(*) from badges) as badges_n",
    "(select count(*) from audit_outbox) + (select count(*) from skill_audit_logs where action not in ('access_granted', 'access_denied')) as audit_n",
  ];
  // Summed over the shards: a rejected request must have written nothing on any of them.
  const rows = await onEveryShard(async (db) => [(await db.prepare(`select ${parts.join(", ")}`).first()) ?? {}]);
  const total: Record<string, unknown> = {};
  for (const row of rows) {
    for (const [key, value] of Object.entries(row as Record<string, unknown>)) {
      total[key] = typeof value === "number" ? Number(total[key] ?? 0) + value : [total[key], value].join("|");
    }
  }
  return total;
}

const EXTRA_FIELDS = new Set([
  "errors",
  "missing_skills",
  // A denied verify's `reason` and stable `denial` code (docs/ARCHITECTURE.md, "Access: the hot path").
  "reason",
  "denial",
  "existing_request_id",
  "user_skill_id",
  "existing_skill_id",
  "missing_prerequisites",
  "request_id",
  "retry_after",
]);

/** The contract's error body, with no internals (stack, SQL, driver messages) anywhere in it. */
export function expectContractError(status: number, text: string, label: string): void {
  expect(status, label).toBeGreaterThanOrEqual(400);
  expect(status, label).toBeLessThan(500);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(typeof body.detail, label).toBe("string");
  expect(body.status_code, label).toBe(status);
  expect(typeof body.error_type, label).toBe("string");
  for (const key of Object.keys(body)) {
    if (!["detail", "status_code", "error_type"].includes(key))
      expect(EXTRA_FIELDS.has(key), `${label}: ${key}`).toBe(true);
  }
  expect(text, label).not.toMatch(/SQLITE|D1_ERROR|sqlite_master|\bat \S+ \(|node_modules|TypeError|RangeError/);
}

/** Nothing any request did may leak onto Object.prototype (the worker shares this isolate). */
export function expectPrototypeClean(label: string): void {
  const proto = Object.prototype as Record<string, unknown>;
  for (const key of ["polluted", "role", "makerspace_id", "a"]) expect(proto[key], label).toBeUndefined();
}
