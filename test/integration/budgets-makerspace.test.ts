import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { baseApp } from "../../src/app";
import { ADMINS } from "../../src/auth/access";
import type { AppEnv } from "../../src/context";
import { apiRoute } from "../../src/openapi/route";
import { jsonContent } from "../../src/routes/content";
import type { JsonResponse } from "../helpers/assertions";
import { budgetEnv, expectRateLimited, freshWindow, LIMITS } from "../helpers/budgets";
import { uniqueUser } from "../helpers/certifications";
import { captureLogs } from "../helpers/logs";
import { admin, member, superAdmin } from "../helpers/tokens";

/**
 * The makerspace budget, for imports, exports and webhook tests (TEST_MAKERSPACE_BUDGET:
 * LIMITS.makerspace per 10-second window). Such a route declares `budget: "makerspace"`; this
 * one is mounted on the app's own middleware, as the real ones are.
 */
const heavy = apiRoute({
  method: "post",
  path: "/",
  tags: ["Test"],
  summary: "A heavy call, like an export",
  access: { callers: ADMINS, scope: ["makerspace"] },
  budget: "makerspace",
  responses: { 200: jsonContent(z.object({ ok: z.literal(true) }), "Done") },
});
const testApp = baseApp().route(
  "/api/v1/heavy",
  new OpenAPIHono<AppEnv>().openapi(heavy, (c) => c.json({ ok: true as const }, 200)),
);

async function callHeavy(token: string, env: Env = budgetEnv()): Promise<JsonResponse> {
  const ctx = createExecutionContext();
  const res = await testApp.fetch(
    new Request("http://localhost/api/v1/heavy", { method: "POST", headers: { authorization: `Bearer ${token}` } }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe("the makerspace budget", () => {
  it("is shared by the makerspace's admins, not by another makerspace, and logged", async () => {
    const logs = captureLogs();
    const ms = uniqueUser("ms");
    const [first, second] = [await admin(ms, uniqueUser("admin")), await admin(ms, uniqueUser("admin"))];
    await freshWindow();
    for (let i = 0; i < LIMITS.makerspace; i++) expect((await callHeavy(i % 2 ? second : first)).status).toBe(200);
    const refused = await callHeavy(first);
    expectRateLimited(refused);
    expect((refused.body as { detail: string }).detail).toBe(
      `Too many imports, exports and webhook tests: ${LIMITS.makerspace} a minute per makerspace`,
    );
    expectRateLimited(await callHeavy(second));
    expect((await callHeavy(await admin(uniqueUser("ms-other")))).status).toBe(200);
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ msg: "rate limited", budget: "makerspace", key: `ms:${ms}`, makerspace_id: ms }),
    );
  });

  it("is not spent by callers the route refuses", async () => {
    const ms = uniqueUser("ms");
    await freshWindow();
    for (let i = 0; i < LIMITS.makerspace + 1; i++) {
      expect((await callHeavy(await member(uniqueUser("member"), ms))).status).toBe(403);
    }
    expect((await callHeavy(await admin(ms, uniqueUser("admin")))).status).toBe(200);
  });

  it("gives a super_admin, who belongs to no makerspace, a budget of its own", async () => {
    captureLogs();
    const root = await superAdmin(uniqueUser("root"));
    await freshWindow();
    for (let i = 0; i < LIMITS.makerspace; i++) expect((await callHeavy(root)).status).toBe(200);
    expectRateLimited(await callHeavy(root));
    expect((await callHeavy(await superAdmin(uniqueUser("root")))).status).toBe(200);
  });

  it("is off at 0", async () => {
    const off = budgetEnv({ RATE_MAKERSPACE_PER_MINUTE: "0" });
    const ms = uniqueUser("ms");
    for (let i = 0; i < LIMITS.makerspace * 3; i++) {
      expect((await callHeavy(await admin(ms, uniqueUser("admin")), off)).status).toBe(200);
    }
  });

  it("is declared on the route: one line, and its document shows it", () => {
    const doc = testApp.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "test", version: "1" } });
    const op = doc.paths?.["/api/v1/heavy"]?.post as
      | { "x-budgets": unknown; description: string; responses: Record<string, unknown> }
      | undefined;
    expect(op?.["x-budgets"]).toEqual({ budgets: ["caller", "makerspace"], caller_exempt: [] });
    expect(op?.description).toContain("**Budgets:** caller; makerspace");
    expect(Object.keys(op?.responses ?? {})).toContain("429");
  });
});
