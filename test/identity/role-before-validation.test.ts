import { describe, expect, it } from "vitest";
import { callJson } from "../helpers/http";
import { member } from "../helpers/tokens";

/**
 * A caller whose role may not make the call gets 403 whatever it sent: it never learns the body
 * or query rules from a 422.
 */
describe("role checks come before validation", () => {
  const calls: [string, string, unknown][] = [
    ["POST", "/api/v1/skills/user-skills", { user_id: 42 }],
    ["POST", "/api/v1/skills/user-skills/us_x/revoke?reason=", { reason: ["not", "text"] }],
    ["PUT", "/api/v1/skills/requests/req_x", { status: "maybe" }],
    ["GET", "/api/v1/skills/audit-logs?limit=0&since=yesterday", undefined],
    ["POST", "/api/v1/skills/access/equipment/eq-1/verify", { user_id: 7, badge_uid: "zz" }],
    ["POST", "/api/v1/skills/", { name: "!!" }],
    ["POST", "/api/v1/equipment", { id: "no spaces allowed" }],
  ];

  it.each(calls)("member %s %s with a bad body → 403", async (method, path, body) => {
    const res = await callJson(method, path, { token: await member(), body });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_type: "forbidden", status_code: 403 });
  });
});
