import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { type DeclaredRoute, declaredRoutes } from "../../src/http/declared";
import { registerDevice } from "../helpers/devices";
import { makeSkill } from "../helpers/factories";
import { bodyText, call } from "../helpers/http";
import { type Components, invalidValues, type JsonSchema, resolve, validArb } from "../helpers/json-schema-arbitrary";
import { admin, member, superAdmin } from "../helpers/tokens";

/**
 * The served document is the contract a client or an OpenAPI fuzzer reads. For every operation:
 * inputs the document calls valid are answered with a status it declares (never a 422 or a 5xx),
 * with a body its response schema accepts; inputs that break one documented rule are a 422 in the
 * error shape.
 */
interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Components };
}

const SEED = Number(process.env.FC_SEED ?? 20261201);
const VALID_SAMPLES = 12;

let doc: Document;
let declared: DeclaredRoute[];
let skillId: string;
let ownDevice: { id: string; token: string };

beforeAll(async () => {
  doc = (await (await call("GET", "/openapi.json")).json()) as Document;
  declared = declaredRoutes(app);
  skillId = (await makeSkill()).id;
  const { device, token } = await registerDevice({ name: "Conformance door" });
  ownDevice = { id: device.id, token };
});

/**
 * The webhook operations' makerspace, where nothing a webhook can subscribe to ever happens: the
 * queues run for real in the background, and a webhook created in ms-1 would be called — at a
 * host that does not resolve, which workerd reports as an uncaught internal error however the
 * failure is handled — for every grant, request and denied verify the other operations make there.
 */
const WEBHOOKS_MAKERSPACE = "ms-conformance-hooks";

/** Values a test must choose to stay inside one makerspace and one user (the token's). */
function fixture(field: string, client: Client): unknown {
  if (field === "makerspace_id") return client.makerspace;
  if (field === "user_id") return "user-1";
  if (field === "skill_id") return skillId;
  if (field.endsWith("_ids")) return [];
  return undefined;
}

function withFixtures(value: unknown, client: Client): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const key of Object.keys(out)) {
    const fixed = fixture(key, client);
    if (fixed !== undefined) out[key] = fixed;
  }
  return out;
}

/**
 * The client a test plays for a route: its token, the callers it counts as, the `{id}` it may
 * name, the makerspace it works in.
 */
interface Client {
  token?: string;
  callers: string[];
  pathId: string;
  makerspace: string;
}

async function clientFor(route: DeclaredRoute): Promise<Client> {
  const pathId = "missing-id-42";
  const makerspace = route.path.startsWith("/api/v1/webhooks") ? WEBHOOKS_MAKERSPACE : "ms-1";
  if ("public" in route.access) return { callers: [], pathId, makerspace };
  const callers = route.access.callers as readonly string[];
  if (callers.includes("makerspace_admin"))
    return { token: await admin(makerspace), callers: ["makerspace_admin"], pathId, makerspace };
  if (callers.includes("super_admin"))
    return { token: await superAdmin(), callers: ["super_admin"], pathId, makerspace };
  if (callers.includes("member")) return { token: await member("user-1"), callers: ["member"], pathId, makerspace };
  // A device-only route is called by a registered device; a device-self route names that device.
  const self = (route.access.scope as readonly string[]).includes("device-self");
  if (callers.includes("kiosk")) {
    const kiosk = await registerDevice({ name: "Conformance kiosk", kind: "kiosk" });
    return { token: kiosk.token, callers: ["kiosk", "device"], pathId: self ? kiosk.device.id : pathId, makerspace };
  }
  return { token: ownDevice.token, callers: ["device"], pathId: self ? ownDevice.id : pathId, makerspace };
}

/**
 * The callers a parameter's description says must send it though the schema cannot require it
 * ("Required from `device`, `makerspace_admin` and `super_admin`: …").
 */
function requiredFrom(description: string | undefined): string[] {
  const sentence = description?.match(/^Required from ([^:.]*)/)?.[1] ?? "";
  return [...sentence.matchAll(/`(\w+)`/g)].map((m) => m[1] ?? "");
}

function mustSend(description: string | undefined, client: Client): boolean {
  return requiredFrom(description).some((caller) => client.callers.includes(caller));
}

/** A sampled body completed with the fields the client's role must send. */
function asSentBy(body: unknown, schema: JsonSchema, client: Client): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const out: Record<string, unknown> = { ...body };
  for (const [key, prop] of Object.entries(resolve(schema, doc.components.schemas).properties ?? {})) {
    if (key in out || !mustSend(resolve(prop, doc.components.schemas).description, client)) continue;
    const value = fixture(key, client);
    if (value === undefined) throw new Error(`no fixture for ${key}, which ${client.callers[0]} must send`);
    out[key] = value;
  }
  return out;
}

function operations(): Array<{ label: string; path: string; method: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ label: `${method.toUpperCase()} ${path}`, path, method, op })),
  );
}

function urlFor(path: string, params: Parameter[], query: Record<string, unknown>, client: Client): string {
  let url = path;
  for (const p of params.filter((x) => x.in === "path")) url = url.replace(`{${p.name}}`, client.pathId);
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${url}?${s}` : url;
}

function queryArb(params: Parameter[], client: Client): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  for (const p of params.filter((x) => x.in === "query")) {
    record[p.name] = validArb(p.schema, doc.components.schemas);
    if (p.required || mustSend(p.description, client)) required.push(p.name);
  }
  return fc
    .record(record, { requiredKeys: required })
    .map((q) => inOrder(withFixtures(q, client) as Record<string, unknown>, params));
}

/** Bounds put the way round their descriptions ask ("Must not be before `since`"), as a client would. */
function inOrder(query: Record<string, unknown>, params: Parameter[]): Record<string, unknown> {
  const out = { ...query };
  for (const p of params) {
    const other = p.description?.match(/Must not be before `(\w+)`/)?.[1];
    const [upper, lower] = [out[p.name], other === undefined ? undefined : out[other]];
    if (other && typeof upper === "string" && typeof lower === "string" && Date.parse(upper) < Date.parse(lower)) {
      out[p.name] = lower;
      out[other] = upper;
    }
  }
  return out;
}

function bodySchema(op: Operation): JsonSchema | undefined {
  return op.requestBody?.content["application/json"]?.schema;
}

function bodyArb(schema: JsonSchema, client: Client): fc.Arbitrary<unknown> {
  return validArb(schema, doc.components.schemas).map((b) => asSentBy(withFixtures(b, client), schema, client));
}

/**
 * A body in another media type (the CSV import) is sent as the document's own example — what a
 * client copying the document would send — and broken in a way each type defines here. A media
 * type missing from this table fails the test rather than going unchecked.
 */
const OTHER_MEDIA: Record<string, { broken: string; why: string }> = {
  "text/csv": { broken: "user_id,skill_id,not_a_column\r\n", why: "a CSV header with an unknown column" },
};

function otherBody(op: Operation): { type: string; example: string; broken: string; why: string } | undefined {
  const [type, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
  if (!type || !media || type === "application/json") return undefined;
  const rules = OTHER_MEDIA[type];
  const example = (media.schema as { example?: unknown }).example;
  if (!rules || typeof example !== "string") throw new Error(`no example or breaking rule for ${type} bodies`);
  return { type, example, ...rules };
}

function samples<T>(arb: fc.Arbitrary<T>, n: number): T[] {
  return fc.sample(arb, { numRuns: n, seed: SEED });
}

function declaredRouteOf(path: string, method: string): DeclaredRoute {
  const route = declared.find((r) => r.method === method.toUpperCase() && r.path === path);
  if (!route) throw new Error(`no declaration for ${method} ${path}`);
  return route;
}

async function send(method: string, url: string, token: string | undefined, body: unknown, type?: string) {
  const res = await call(method.toUpperCase(), url, {
    token,
    ...(body === undefined ? {} : { rawBody: type ? String(body) : JSON.stringify(body) }),
    ...(type ? { headers: { "content-type": type } } : {}),
  });
  const text = await bodyText(res);
  return { status: res.status, text, type: res.headers.get("content-type") ?? "" };
}

/** Why a response to a valid input breaks the document, or undefined when it does not. */
function validProblem(
  op: Operation,
  route: DeclaredRoute,
  res: { status: number; text: string; type: string },
): string | undefined {
  if (res.status >= 500) return "server error";
  if (res.status === 422 && !res.text.includes("prerequisite_cycle")) return "valid input refused";
  if (!Object.keys(op.responses).includes(String(res.status))) return "undeclared status";
  const schema = route.responses[String(res.status)];
  if (schema && res.type.startsWith("application/json")) {
    const parsed = schema.safeParse(JSON.parse(res.text));
    if (!parsed.success) return `body does not match its schema ${JSON.stringify(parsed.error.issues)}`;
  }
  return undefined;
}

describe("the served OpenAPI document matches what the routes enforce", () => {
  it("declares the error responses and named schemas a client needs", () => {
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["Error", "Skill", "SkillCreate"]));
    for (const { label, op } of operations()) {
      expect(Object.keys(op.responses), label).toContain("500");
    }
  });

  it("answers every valid input with a declared status and a body matching its schema", async () => {
    const failures: string[] = [];
    for (const { label, path, method, op } of operations()) {
      if (path === "/openapi.json" || path === "/docs" || path === "/kiosk") continue;
      const route = declaredRouteOf(path, method);
      const client = await clientFor(route);
      const params = op.parameters ?? [];
      const schema = bodySchema(op);
      const other = otherBody(op);
      const bodies = schema
        ? samples(bodyArb(schema, client), VALID_SAMPLES)
        : other
          ? [other.example]
          : Array(VALID_SAMPLES).fill(undefined);
      const queries = samples(queryArb(params, client), Math.max(bodies.length, other ? 3 : 1));
      for (const [i, query] of queries.entries()) {
        const body = bodies[i % bodies.length];
        const url = urlFor(path, params, query, client);
        const res = await send(method, url, client.token, body, other?.type);
        const where = `${label} ${url} ${JSON.stringify(body)} → ${res.status} ${res.text.slice(0, 300)}`;
        const problem = validProblem(op, route, res);
        if (problem) failures.push(`${problem}: ${where}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("answers every input that breaks one documented rule with 422 in the error shape", async () => {
    const failures: string[] = [];
    for (const { label, path, method, op } of operations()) {
      const route = declaredRouteOf(path, method);
      const client = await clientFor(route);
      const params = op.parameters ?? [];
      const queryParams = params.filter((p) => p.in === "query");
      const baseQuery = samples(queryArb(params, client), 1)[0] ?? {};
      const schema = bodySchema(op);
      const other = otherBody(op);
      const baseBody = schema ? samples(bodyArb(schema, client), 1)[0] : other?.example;
      const cases: Array<[string, Record<string, unknown>, unknown]> = [];
      if (other) cases.push([`body: ${other.why}`, baseQuery, other.broken]);
      cases.push(["unknown query parameter", { ...baseQuery, not_a_parameter: "1" }, baseBody]);
      for (const p of queryParams) {
        for (const [why, value] of invalidValues(p.schema, doc.components.schemas)) {
          if (typeof value === "object") continue;
          cases.push([`query ${p.name}: ${why}`, { ...baseQuery, [p.name]: value }, baseBody]);
        }
      }
      if (schema) {
        const resolved = resolve(schema, doc.components.schemas);
        const body = (baseBody ?? {}) as Record<string, unknown>;
        cases.push(["unknown body field", baseQuery, { ...body, not_a_field: 1 }]);
        for (const key of resolved.required ?? []) {
          const { [key]: _dropped, ...rest } = body;
          cases.push([`body without ${key}`, baseQuery, rest]);
        }
        for (const [key, prop] of Object.entries(resolved.properties ?? {})) {
          for (const [why, value] of invalidValues(prop, doc.components.schemas)) {
            cases.push([`body ${key}: ${why}`, baseQuery, { ...body, [key]: value }]);
          }
        }
      }
      for (const [why, query, body] of cases) {
        const url = urlFor(path, params, query, client);
        const res = await send(method, url, client.token, body, other?.type);
        const where = `${label} ${why}: ${url} ${JSON.stringify(body)?.slice(0, 200)} → ${res.status} ${res.text.slice(0, 200)}`;
        const parsed = res.type.startsWith("application/json") ? (JSON.parse(res.text) as Record<string, unknown>) : {};
        const ok =
          res.status === 422 &&
          parsed.status_code === 422 &&
          parsed.error_type === "validation_error" &&
          Array.isArray(parsed.errors);
        if (!ok) failures.push(where);
      }
    }
    expect(failures).toEqual([]);
  });
});
