import { describe, expect, it } from "vitest";
import type { JsonResponse } from "../helpers/assertions";
import { budgetEnv, expectRateLimited, freshWindow, LIMITS } from "../helpers/budgets";
import { uniqueUser } from "../helpers/certifications";
import { callJson } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { admin, member, superAdmin } from "../helpers/tokens";

/**
 * The makerspace budget, for imports, exports and webhook tests (TEST_MAKERSPACE_BUDGET:
 * LIMITS.makerspace per 10-second window), on a real heavy route: the audit-log export, which
 * answers an empty 200 for a makerspace with no events.
 */
const HEAVY = "/api/v1/skills/audit-logs/export";

/** The routes that declare `budget: "makerspace"`. */
const HEAVY_ROUTES = [
  ["post", "/api/v1/skills/user-skills/import"],
  ["get", "/api/v1/skills/user-skills/export"],
  ["get", "/api/v1/skills/audit-logs/export"],
  ["post", "/api/v1/webhooks/{id}/test"],
] as const;

/** A super_admin names the makerspace it exports; the budget it spends is its own still. */
async function callHeavy(token: string, env: Env = budgetEnv(), makerspaceId?: string): Promise<JsonResponse> {
  const query = makerspaceId ? `?makerspace_id=${makerspaceId}` : "";
  return callJson("GET", `${HEAVY}${query}`, { token, env });
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
    const ms = uniqueUser("ms");
    await freshWindow();
    for (let i = 0; i < LIMITS.makerspace; i++) expect((await callHeavy(root, budgetEnv(), ms)).status).toBe(200);
    expectRateLimited(await callHeavy(root, budgetEnv(), ms));
    expect((await callHeavy(await superAdmin(uniqueUser("root")), budgetEnv(), ms)).status).toBe(200);
  });

  it("is off at 0", async () => {
    const off = budgetEnv({ RATE_MAKERSPACE_PER_MINUTE: "0" });
    const ms = uniqueUser("ms");
    for (let i = 0; i < LIMITS.makerspace * 3; i++) {
      expect((await callHeavy(await admin(ms, uniqueUser("admin")), off)).status).toBe(200);
    }
  });

  it("is declared on the import, both exports and the webhook test, and the document shows it", async () => {
    const doc = (
      await callJson<{
        paths: Record<string, Record<string, { "x-budgets": unknown; description: string; responses: object }>>;
      }>("GET", "/openapi.json")
    ).body;
    for (const [method, path] of HEAVY_ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op?.["x-budgets"], path).toEqual({ budgets: ["caller", "makerspace"], caller_exempt: [] });
      expect(op?.description, path).toContain("**Budgets:** caller; makerspace");
      expect(Object.keys(op?.responses ?? {}), path).toContain("429");
    }
  });
});
