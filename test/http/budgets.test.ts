import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { declaredRoutes } from "../../src/http/declared";
import { budgetEnv, burst, expectRateLimited, freshWindow, LIMITS, statuses, untilServed } from "../helpers/budgets";
import { uniqueUser } from "../helpers/certifications";
import { makeEquipment } from "../helpers/factories";
import { bodyText, call, callJson } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { adhocDevice, admin, device, member } from "../helpers/tokens";

/**
 * The caller budget: every authenticated request, per token `sub`, through the binding's local
 * emulation (TEST_CALLER_BUDGET: LIMITS.caller per 10-second window).
 */
const budgets = budgetEnv();
const SKILLS = "/api/v1/skills";
const verify = (id: string) => `/api/v1/skills/access/equipment/${id}/verify`;
let equipmentId: string;

beforeAll(async () => {
  equipmentId = (await makeEquipment()).id;
});

describe("the caller budget", () => {
  it("answers 429 rate_limited with Retry-After past the budget, logged with the caller, and recovers", async () => {
    const logs = captureLogs();
    const sub = uniqueUser("noisy");
    const token = await member(sub);
    await freshWindow();
    const answers = await burst(LIMITS.caller + 1, "GET", SKILLS, { token, env: budgets });
    expect(statuses(answers)).toEqual([...Array(LIMITS.caller).fill(200), 429]);
    const refused = answers[LIMITS.caller];
    if (!refused) throw new Error("no answer past the budget");
    expectRateLimited(refused);
    expect((refused.body as { detail: string }).detail).toBe(`Too many requests: ${LIMITS.caller} a minute per caller`);

    const line = logs.lines.find((l) => l.msg === "rate limited");
    expect(line).toMatchObject({
      level: "warn",
      budget: "caller",
      sub,
      role: "member",
      makerspace_id: "ms-1",
      method: "GET",
      path: SKILLS,
      retry_after: (refused.body as { retry_after: number }).retry_after,
    });
    expect(JSON.stringify(logs.lines)).not.toContain(token);

    // The window is 10 s here (a minute when deployed): the caller is served again once it passes.
    const again = await untilServed(() => callJson("GET", SKILLS, { token, env: budgets }));
    expect(again.status).toBe(200);
  });

  it("is per caller: one noisy caller does not throttle another, of the same makerspace or role", async () => {
    captureLogs();
    const noisy = await member(uniqueUser("noisy"));
    const quiet = await member(uniqueUser("quiet"));
    await freshWindow();
    await burst(LIMITS.caller, "GET", SKILLS, { token: noisy, env: budgets });
    expectRateLimited(await callJson("GET", SKILLS, { token: noisy, env: budgets }));
    expect((await callJson("GET", SKILLS, { token: quiet, env: budgets })).status).toBe(200);
    expect(
      (await callJson("GET", SKILLS, { token: await admin("ms-1", uniqueUser("admin")), env: budgets })).status,
    ).toBe(200);
  });

  it("counts every request, refused and invalid ones too", async () => {
    captureLogs();
    const token = await member(uniqueUser("prober"));
    await freshWindow();
    const answers = [
      await callJson("GET", "/api/v1/devices", { token, env: budgets }), // 403: not an admin
      await callJson("GET", `${SKILLS}?bogus=1`, { token, env: budgets }), // 422
      await callJson("GET", `${SKILLS}/skill_missing`, { token, env: budgets }), // 404
    ];
    expect(statuses(answers)).toEqual([403, 422, 404]);
    expectRateLimited(await callJson("GET", SKILLS, { token, env: budgets }));
  });

  it("never applies to /health, which counts the 429s of this isolate", async () => {
    captureLogs();
    const before = await callJson<{ checks: { rate_limited: { caller: number } } }>("GET", "/health?deep=1");
    const token = await member(uniqueUser("noisy"));
    await freshWindow();
    await burst(LIMITS.caller + 2, "GET", SKILLS, { token, env: budgets });
    for (const path of ["/health", "/health?deep=1"]) {
      expect(statuses(await burst(LIMITS.caller + 1, "GET", path, { env: budgets }))).not.toContain(429);
    }
    const after = await callJson<{ checks: { rate_limited: Record<string, unknown> } }>("GET", "/health?deep=1");
    expect(after.body.checks.rate_limited).toEqual({
      caller: before.body.checks.rate_limited.caller + 2,
      badge: expect.any(Number),
      makerspace: expect.any(Number),
      since: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });

  it("is off at 0", async () => {
    const token = await member(uniqueUser("bench"));
    const off = budgetEnv({ RATE_CALLER_PER_MINUTE: "0" });
    expect(statuses(await burst(LIMITS.caller * 3, "GET", SKILLS, { token, env: off }))).not.toContain(429);
  });

  it("lets calls through, logged, when the limiter itself fails (a door must not lock)", async () => {
    const logs = captureLogs();
    const broken: RateLimit = {
      limit: () => Promise.reject(new Error("rate limiter unreachable")),
    };
    const res = await callJson("GET", SKILLS, { token: await member(), env: { ...budgets, CALLER_BUDGET: broken } });
    expect(res.status).toBe(200);
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ level: "error", msg: "budget not counted", budget: "caller" }),
    );
  });
});

describe("verify by a registered door or machine", () => {
  it("is never refused by the caller budget, and does not spend it", async () => {
    captureLogs();
    for (const kind of ["door", "machine"] as const) {
      const id = uniqueUser(kind);
      const token = await device(id, "ms-1", kind);
      await freshWindow(6);
      const answers = await burst(LIMITS.caller * 3, "POST", verify(equipmentId), {
        token,
        body: { user_id: "member-at-the-door" },
        env: budgets,
      });
      expect(statuses(answers)).toEqual(Array(LIMITS.caller * 3).fill(200));
      // Its other calls are budgeted, and all of the budget is still there for them.
      const heartbeats = await burst(LIMITS.caller + 1, "POST", `/api/v1/devices/${id}/heartbeat`, {
        token,
        body: {},
        env: budgets,
      });
      expect(statuses(heartbeats)).toEqual([...Array(LIMITS.caller).fill(200), 429]);
      expect(
        (await callJson("POST", verify(equipmentId), { token, body: { user_id: "m" }, env: budgets })).status,
      ).toBe(200);
    }
  });

  it("is budgeted for kiosks, unregistered device tokens and admins", async () => {
    captureLogs();
    const env = budgetEnv({ ALLOW_UNREGISTERED_DEVICES: "true" });
    const callers = [
      await device(uniqueUser("kiosk"), "ms-1", "kiosk"),
      await adhocDevice(uniqueUser("adhoc-door"), "ms-1", { device_kind: "door" }),
      await admin("ms-1", uniqueUser("admin")),
    ];
    for (const token of callers) {
      await freshWindow();
      const answers = await burst(LIMITS.caller + 1, "POST", verify(equipmentId), {
        token,
        body: { user_id: "someone" },
        env,
      });
      expect(statuses(answers)).toEqual([...Array(LIMITS.caller).fill(200), 429]);
    }
  });
});

describe("every authenticated route", () => {
  it("spends the caller budget and answers its 429 as the document declares", async () => {
    captureLogs();
    const doc = (
      await callJson<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
        "GET",
        "/openapi.json",
      )
    ).body;
    const routes = declaredRoutes(app).filter((r) => !("public" in r.access));
    expect(routes.length).toBeGreaterThan(30);
    for (const route of routes) {
      const path = route.path.replace(/\{[^}]+\}/g, "x");
      const sub = uniqueUser("every-route");
      const token = await admin("ms-1", sub);
      await freshWindow(2);
      // A heavy route also spends its makerspace's budget (LIMITS.makerspace, below the caller's):
      // the same caller, from a makerspace of its own on each call, reaches the caller budget alone.
      const heavy = route.budgets?.budgets.includes("makerspace") ?? false;
      const tokens = heavy
        ? await Promise.all(Array.from({ length: LIMITS.caller + 1 }, () => admin(uniqueUser("ms-every-route"), sub)))
        : Array(LIMITS.caller + 1).fill(token);
      // Statuses only: the exports answer CSV or NDJSON when served.
      const answers: number[] = [];
      for (const t of tokens) {
        const res = await call(route.method, path, { token: t, env: budgets });
        await bodyText(res);
        answers.push(res.status);
      }
      const label = `${route.method} ${route.path}: ${answers}`;
      expect(answers.slice(0, LIMITS.caller), label).not.toContain(429);
      expect(answers[LIMITS.caller], label).toBe(429);
      const ops = doc.paths[route.path] ?? doc.paths[`${route.path}/`];
      const declared = ops?.[route.method.toLowerCase()]?.responses["429"] as {
        headers: Record<string, unknown>;
        content: { "application/json": { schema: { allOf: { required?: string[] }[] } } };
      };
      expect(declared?.headers, label).toHaveProperty("retry-after");
      const required = declared?.content["application/json"].schema.allOf.flatMap((part) => part.required ?? []);
      expect(required, label).toContain("retry_after");
    }
  });

  it("public routes declare no 429", async () => {
    const doc = (
      await callJson<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
        "GET",
        "/openapi.json",
      )
    ).body;
    for (const path of ["/health", "/openapi.json", "/docs", "/kiosk", "/.well-known/jwks.json"]) {
      const ops = doc.paths[path] ?? doc.paths[`${path}/`];
      expect(ops?.get?.responses, path).not.toHaveProperty("429");
    }
  });
});
