import fc from "fast-check";

/**
 * Arbitraries from the JSON Schemas of the served OpenAPI document, as an outside fuzzer reads
 * them: whatever the document says is valid must be accepted, and each way of breaking one rule
 * must be a 422. Covers the subset the document uses ($ref, allOf, anyOf/oneOf, enum/const, type
 * arrays, string length/pattern/format (date-time, date, uri), numeric bounds and steps, arrays,
 * objects with additionalProperties and min/maxProperties).
 */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  /** Not JSON Schema: the patterns of an `allOf` beside `pattern` (a schema object holds only one). */
  patterns?: string[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  minProperties?: number;
  maxProperties?: number;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  nullable?: boolean;
  description?: string;
}

export type Components = Record<string, JsonSchema>;

/** `$ref`s resolved and `allOf`s merged, so every other function sees plain schemas. */
export function resolve(schema: JsonSchema, components: Components): JsonSchema {
  if (schema.$ref) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    const target = components[name];
    if (!target) throw new Error(`unresolved ${schema.$ref}`);
    return resolve({ ...target, ...withoutKey(schema, "$ref") }, components);
  }
  if (schema.allOf) {
    const parts = schema.allOf.map((s) => resolve(s, components));
    const merged: JsonSchema = { ...withoutKey(schema, "allOf") };
    for (const p of parts) {
      merged.type ??= p.type;
      if (p.properties) merged.properties = { ...merged.properties, ...p.properties };
      if (p.required) merged.required = [...new Set([...(merged.required ?? []), ...p.required])];
      if (p.additionalProperties === false) merged.additionalProperties = false;
      if (p.pattern) merged.patterns = [...(merged.patterns ?? []), p.pattern];
      if (p.minLength !== undefined) merged.minLength = Math.max(merged.minLength ?? 0, p.minLength);
      if (p.maxLength !== undefined) merged.maxLength = Math.min(merged.maxLength ?? Infinity, p.maxLength);
    }
    return merged;
  }
  return schema;
}

function withoutKey<T extends object>(o: T, key: keyof T): T {
  const copy = { ...o };
  delete copy[key];
  return copy;
}

function types(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  return [];
}

function stringArb(s: JsonSchema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 40, 2000);
  if (s.format === "date-time") {
    return fc
      .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2090-01-01T00:00:00Z"), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (s.format === "date") {
    return fc
      .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2090-01-01T00:00:00Z"), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
  }
  if (s.format === "uri") {
    // Absolute https URLs under a reserved public domain: what a client would subscribe. (The
    // service refuses private and loopback hosts too, which the description states.)
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
    const path = fc.array(fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/), { maxLength: 4 });
    return fc
      .tuple(label, path)
      .map(([host, parts]) => `https://${host}.example.com/${parts.join("/")}`)
      .filter((v) => v.length >= min && v.length <= max);
  }
  const patterns = [s.pattern, ...(s.patterns ?? [])].flatMap((p) => (p ? [new RegExp(p, "u")] : []));
  const fits = (v: string) => [...v].length >= min && [...v].length <= max && patterns.every((re) => re.test(v));
  const [first] = patterns;
  const any = first ? fc.stringMatching(first).filter(fits) : fc.string({ minLength: min, maxLength: max });
  // Lengths at both limits as well as in between: limits are where encoders and databases break.
  const limits = ["x".repeat(Math.max(min, 1)), "y".repeat(max)].filter(fits);
  return fc.oneof(any, ...limits.map((v) => fc.constant(v)));
}

function numberArb(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 1e-6) : -1e6);
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 1e-6) : 1e6);
  if (integer) return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
  if (s.multipleOf) {
    const step = s.multipleOf;
    // The double nearest to n × step, printed with the step's decimals (0.01 × 97306182 is not it).
    const decimals = String(step).split(".")[1]?.length ?? 0;
    return fc
      .integer({ min: Math.ceil(min / step), max: Math.floor(max / step) })
      .map((n) => Number((n * step).toFixed(decimals)));
  }
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

/** Values the schema accepts. */
export function validArb(schema: JsonSchema, components: Components): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => validArb(a, components)));
  const ts = types(s);
  if (ts.length > 1) return fc.oneof(...ts.map((t) => validArb({ ...s, type: t }, components)));
  switch (ts[0]) {
    case "string":
      return stringArb(s);
    case "integer":
      return numberArb(s, true);
    case "number":
      return numberArb(s, false);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(s.items ? validArb(s.items, components) : fc.string(), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 5, 5),
      });
    case "object":
      return objectArb(s, components);
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

function objectArb(s: JsonSchema, components: Components): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const required = s.required ?? [];
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, prop] of Object.entries(props)) record[key] = validArb(prop, components);
  return fc.record(record, { requiredKeys: required.filter((k) => k in props) }).filter((o) => {
    const n = Object.keys(o).length;
    return n >= (s.minProperties ?? 0) && n <= (s.maxProperties ?? Infinity);
  });
}

/** A value of another JSON type than the schema allows, or undefined when it allows any. */
function wrongType(s: JsonSchema, components: Components): unknown {
  const ts = new Set(
    (s.anyOf ?? s.oneOf ?? [s]).flatMap((a) => {
      const r = resolve(a, components);
      return r.enum ? [typeof r.enum[0]] : types(r);
    }),
  );
  if (ts.size === 0) return undefined;
  if (!ts.has("object")) return { unexpected: true };
  if (!ts.has("array")) return ["unexpected"];
  return undefined;
}

/** Ways to break one rule of a property's schema, each with a label. */
export function invalidValues(schema: JsonSchema, components: Components): Array<[string, unknown]> {
  const s = resolve(schema, components);
  const out: Array<[string, unknown]> = [];
  const wrong = wrongType(s, components);
  if (wrong !== undefined) out.push(["wrong type", wrong]);
  if (s.enum?.every((v) => typeof v === "string")) out.push(["not in enum", "not-a-listed-value"]);
  const ts = types(s);
  if (ts.includes("string") && !s.enum) {
    if (s.maxLength !== undefined) out.push([`${s.maxLength + 1} characters`, "a".repeat(s.maxLength + 1)]);
    if (s.format === "date-time") out.push(["not a timestamp", "2026-13-45 25:61"]);
    if (s.format === "uri") out.push(["not a URI", "not a uri"]);
  }
  if (ts.includes("integer") || ts.includes("number")) {
    if (s.maximum !== undefined) out.push(["over the maximum", s.maximum + 1]);
    if (s.minimum !== undefined) out.push(["under the minimum", s.minimum - 1]);
  }
  if (ts.includes("array") && s.maxItems !== undefined) {
    out.push([`${s.maxItems + 1} items`, Array.from({ length: s.maxItems + 1 }, (_, i) => `item-${i}`)]);
  }
  return out;
}
