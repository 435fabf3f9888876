import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRequest, grant } from "../helpers/certifications";
import { randomUid, registerBadge, registerDevice } from "../helpers/devices";
import { makeEquipment, makeSkill, uniqueName } from "../helpers/factories";
import {
  appRoutes,
  bodyKeys,
  expectContractError,
  expectPrototypeClean,
  type FuzzRoute,
  hostileSegment,
  hostileString,
  hostileValueText,
  pollutingText,
  queryKeys,
  storeSnapshot,
  withField,
} from "../helpers/hostile";
import { bodyText, call, callJson, envWith } from "../helpers/http";
import { admin } from "../helpers/tokens";
import { receiver } from "../helpers/webhooks";

fc.configureGlobal({ seed: Number(env.FC_SEED) });

const ROUTES = appRoutes();
const RUNS = 50;

/**
 * The webhook routes are fuzzed in a makerspace of their own, where nothing a webhook can
 * subscribe to ever happens: the real queues run in the background here, and a webhook that heard
 * of the fuzzed requests or verifies would be called for real (a host that does not resolve, which
 * workerd reports as an uncaught internal error however the failure is handled).
 */
const HOOKS_MAKERSPACE = "ms-fuzz-hooks";

/** Real ids for every path parameter, so a fuzzed body or query reaches the service. */
const ids: Record<string, string> = {};
let adminToken: string;
let hooksToken: string;
let heartbeatToken: string;
let heartbeatDevice: string;

// The admins' tokens live 10 minutes, and this file can run longer than that on a loaded machine:
// each test gets fresh ones (an expired token would turn every probe into a 401 that proves nothing).
beforeEach(async () => {
  adminToken = await admin("ms-1");
  hooksToken = await admin(HOOKS_MAKERSPACE);
});

beforeAll(async () => {
  adminToken = await admin("ms-1");
  hooksToken = await admin(HOOKS_MAKERSPACE);
  const eq = await makeEquipment();
  const prereq = await makeSkill();
  const skill = await makeSkill({ equipment_ids: [eq.id] });
  const userSkill = await grant({ user_id: "fuzz-user-1", skill_id: prereq.id });
  const request = await createRequest({ user_id: "fuzz-user-2", skill_id: skill.id });
  const spare = await registerDevice({ name: "Fuzzed device" });
  const beating = await registerDevice({ name: "Heartbeat device" });
  const badge = await registerBadge(randomUid(), "fuzz-user-1");
  // Saved with local development's setting, which allows the local receiver's http://127.0.0.1 URL.
  // The background consumer runs with the deployed setting, so the webhook.test events that the
  // fuzzed POST /webhooks/{id}/test queues are refused before any fetch (recorded as failed attempts).
  const webhook = await callJson<{ webhook: { id: string } }>("POST", "/api/v1/webhooks", {
    token: hooksToken,
    env: envWith({ ALLOW_UNREGISTERED_DEVICES: "true" }),
    body: { url: receiver("fuzz").url, events: ["request.created"], makerspace_id: HOOKS_MAKERSPACE },
  });
  expect(webhook.status, JSON.stringify(webhook.body)).toBe(201);
  heartbeatToken = beating.token;
  heartbeatDevice = beating.device.id;
  Object.assign(ids, {
    skills: skill.id,
    prereq: prereq.id,
    equipment: eq.id,
    "user-skills": userSkill.body.id,
    requests: request.body.id,
    devices: spare.device.id,
    badges: badge.id,
    webhooks: webhook.body.webhook.id,
  });
});

/** The id a path parameter takes when it is not the thing being fuzzed. */
function realId(route: FuzzRoute, param: string): string {
  if (param === "equipment_id") return ids.equipment as string;
  if (route.path.endsWith("/heartbeat")) return heartbeatDevice;
  const resource = Object.keys(ids).find((k) => route.path.includes(`/${k}/:`));
  return ids[resource ?? "skills"] as string;
}

function fillPath(route: FuzzRoute, override: Record<string, string> = {}): string {
  return route.path.replace(
    /:([A-Za-z0-9_]+)/g,
    (_m, p: string) => override[p] ?? encodeURIComponent(realId(route, p)),
  );
}

/** A body the route would accept, so one hostile field is judged on its own. */
function validBody(route: FuzzRoute): Record<string, unknown> {
  const p = route.path;
  if (p.endsWith("/verify")) return { user_id: "fuzz-user-1" };
  if (p.endsWith("/heartbeat")) return { firmware: "1.0.0" };
  if (p.endsWith("/revoke")) return { reason: "fuzz" };
  if (p === "/api/v1/skills" && route.method === "POST")
    return { name: uniqueName("Fuzz"), category: "Safety", level: "beginner", makerspace_id: "ms-1" };
  if (p === "/api/v1/skills/:id") return { description: "fuzzed" };
  if (p === "/api/v1/equipment" && route.method === "POST") return { name: "Fuzz machine", makerspace_id: "ms-1" };
  if (p === "/api/v1/equipment/:id") return { location: "Fuzz room" };
  if (p === "/api/v1/skills/user-skills") return { user_id: "fuzz-user-3", skill_id: ids.prereq };
  if (p === "/api/v1/skills/requests" && route.method === "POST")
    return { user_id: "fuzz-user-4", skill_id: ids.skills };
  if (p === "/api/v1/skills/requests/:id") return { status: "rejected" };
  if (p === "/api/v1/devices") return { name: "Fuzz door", kind: "door", makerspace_id: "ms-1" };
  if (p === "/api/v1/badges") return { badge_uid: randomUid(), user_id: "fuzz-user-5", makerspace_id: "ms-1" };
  if (p === "/api/v1/badges/resolve") return { badge_uid: randomUid() };
  if (p === "/api/v1/webhooks")
    return { url: "https://hooks.example.com/fuzz", events: ["access.denied"], makerspace_id: HOOKS_MAKERSPACE };
  if (p === "/api/v1/webhooks/:id") return { description: "fuzzed" };
  return {};
}

function tokenFor(route: FuzzRoute): string {
  if (route.path.endsWith("/heartbeat")) return heartbeatToken;
  return route.path.startsWith("/api/v1/webhooks") ? hooksToken : adminToken;
}

/**
 * Sends one request and checks the invariants: never a 5xx; every failure in the contract's
 * shape; nothing stored by a rejected request; no prototype pollution.
 */
async function probe(route: FuzzRoute, path: string, rawBody?: string): Promise<number> {
  const label = `${route.method} ${path.slice(0, 200)} ${rawBody?.slice(0, 200) ?? ""}`;
  const before = await storeSnapshot();
  const res = await call(route.method, path, {
    token: tokenFor(route),
    ...(rawBody !== undefined ? { rawBody } : {}),
  });
  const text = await bodyText(res);
  expect(res.status, `${label} → ${text.slice(0, 300)}`).toBeLessThan(500);
  if (res.status >= 400) {
    expectContractError(res.status, text, label);
    expect(await storeSnapshot(), label).toEqual(before);
  }
  expectPrototypeClean(label);
  return res.status;
}

const withBody = ROUTES.filter((r) => r.method === "POST" || r.method === "PUT");
const withParams = ROUTES.filter((r) => r.params.length > 0);
const byName = (rs: FuzzRoute[]) => rs.map((r) => [`${r.method} ${r.path}`, r] as const);

describe("the route table", () => {
  it("covers every documented route", () => {
    expect(ROUTES.length).toBeGreaterThanOrEqual(30);
    expect(ROUTES.filter((r) => r.path.startsWith("/api/") && !r.doc)).toEqual([]);
  });
});

describe("hostile bodies", () => {
  it.each(byName(withBody))("%s: one hostile field in an otherwise valid body", async (_n, route) => {
    const keys = [...new Set([...bodyKeys(route), "makerspace_id", "user_id"])];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), hostileValueText, async (key, value) => {
        await probe(route, fillPath(route), withField(validBody(route), key, value));
      }),
      { numRuns: RUNS },
    );
  });

  it.each(byName(withBody))("%s: a hostile value or malformed text as the whole body", async (_n, route) => {
    const raw = fc.oneof(
      hostileValueText,
      fc.constantFrom("{", '{"a":', "[1,2", "NaN", "\u0000", "", "{'a':1}", '{"a":1}garbage', "\ufeff{}"),
      hostileString,
    );
    await fc.assert(
      fc.asyncProperty(raw, async (body) => {
        await probe(route, fillPath(route), body);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(byName(withBody))("%s: prototype-polluting keys beside a valid body", async (_n, route) => {
    await fc.assert(
      fc.asyncProperty(pollutingText, async (polluting) => {
        const valid = JSON.stringify(validBody(route)).slice(1);
        const merged = valid === "}" ? polluting : `${polluting.slice(0, -1)},${valid}`;
        const status = await probe(route, fillPath(route), merged);
        // If accepted, the polluting key granted nothing: the row is still in the caller's makerspace.
        expect([200, 201, 202, 204, 403, 404, 409, 422]).toContain(status);
      }),
      { numRuns: 6 },
    );
  });
});

describe("hostile query strings", () => {
  it.each(byName(ROUTES))("%s", async (_n, route) => {
    const keys = [...queryKeys(route), "makerspace_id", "limit", "__proto__", "constructor", "user_id[]"];
    const query = fc.array(fc.tuple(fc.constantFrom(...keys), hostileString), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(query, fc.boolean(), async (pairs, rawTail) => {
        const qs = new URLSearchParams(pairs).toString();
        await probe(route, `${fillPath(route)}?${qs}${rawTail ? "&bad=%E0%A4%A&%ZZ=1" : ""}`, bodyFor(route));
      }),
      { numRuns: RUNS },
    );
  });
});

describe("hostile path parameters", () => {
  it.each(byName(withParams))("%s", async (_n, route) => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...route.params), hostileSegment, async (param, segment) => {
        await probe(route, fillPath(route, { [param]: segment }), bodyFor(route));
      }),
      { numRuns: RUNS },
    );
  });
});

function bodyFor(route: FuzzRoute): string | undefined {
  return route.method === "POST" || route.method === "PUT" ? JSON.stringify(validBody(route)) : undefined;
}

describe("user ids KV cannot hold as a key (read from D1 instead of failing)", () => {
  it("200 three-byte characters (600 bytes of UTF-8): grant, cached and strong checks, verify", async () => {
    const userId = "€".repeat(200);
    const eq = await makeEquipment();
    const skill = await makeSkill({ equipment_ids: [eq.id] });
    expect((await grant({ user_id: userId, skill_id: skill.id })).status).toBe(201);
    const q = encodeURIComponent(userId);
    for (const consistency of ["cached", "strong"]) {
      const single = await callJson<{ can_access: boolean }>(
        "GET",
        `/api/v1/skills/access/equipment/${eq.id}?user_id=${q}&consistency=${consistency}`,
        { token: adminToken },
      );
      expect([single.status, single.body.can_access]).toEqual([200, true]);
      const bulk = await callJson("GET", `/api/v1/skills/access/equipment?user_id=${q}&consistency=${consistency}`, {
        token: adminToken,
      });
      expect(bulk.status).toBe(200);
    }
  });

  it("a lone surrogate (only a JSON body can carry one): grant and verify", async () => {
    const userId = "member-\ud800";
    const eq = await makeEquipment();
    const skill = await makeSkill({ equipment_ids: [eq.id] });
    expect((await grant({ user_id: userId, skill_id: skill.id })).status).toBe(201);
    const verify = await callJson<{ can_access: boolean }>("POST", `/api/v1/skills/access/equipment/${eq.id}/verify`, {
      token: adminToken,
      body: { user_id: userId },
    });
    expect([verify.status, verify.body.can_access]).toEqual([200, true]);
  });
});
