import { describe, expect, it } from "vitest";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

/**
 * A fixed path is its own resource for every method: a method it does not serve is 405 with
 * `Allow`, never a parent's `/:id` route reading the name as an id ("Skill not found").
 */
describe("405 on fixed paths", () => {
  const cases: [string, string, string][] = [
    ["PUT", "/api/v1/skills/user-skills", "GET, POST"],
    ["PUT", "/api/v1/skills/user-skills/", "GET, POST"],
    ["PUT", "/api/v1/skills/requests", "GET, POST"],
    ["PUT", "/api/v1/skills/audit-logs", "GET"],
    ["PUT", "/api/v1/skills/equipment-requirements", "GET"],
    ["POST", "/api/v1/skills/equipment-requirements", "GET"],
    ["DELETE", "/api/v1/badges/resolve", "POST"],
    ["GET", "/api/v1/badges/resolve", "POST"],
    ["POST", "/health", "GET"],
  ];

  it.each(cases)("%s %s → 405", async (method, path, allow) => {
    const res = await callJson(method, path, { token: await admin(), body: method === "GET" ? undefined : {} });
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ detail: "Method not allowed", status_code: 405, error_type: "method_not_allowed" });
    expect(res.headers.get("allow")?.split(", ").sort()).toEqual(allow.split(", ").sort());
  });

  it("still routes ids that merely look like names", async () => {
    const res = await callJson("GET", "/api/v1/skills/user-skills-archive", { token: await admin() });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error_type: "skill_not_found" });
  });
});
