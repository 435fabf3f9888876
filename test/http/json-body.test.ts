import { describe, expect, it } from "vitest";
import { makeSkill, uniqueName } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

/** Bodies are JSON whatever the Content-Type says; an empty body is no body. */
describe("request bodies", () => {
  it("reads a JSON body sent without a JSON content type (curl -d without -H)", async () => {
    const name = uniqueName();
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const res = await callJson<{ name: string }>("POST", "/api/v1/skills/", {
        token: await admin(),
        rawBody: JSON.stringify({
          name: `${name} ${type.length}`,
          category: "Safety",
          level: "beginner",
          makerspace_id: "ms-1",
        }),
        headers: { "content-type": type },
      });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(`${name} ${type.length}`);
    }
  });

  it("answers 400 bad_request for a non-JSON body, whatever the content type", async () => {
    for (const type of ["text/plain", "application/json"]) {
      const res = await callJson("POST", "/api/v1/skills/", {
        token: await admin(),
        rawBody: "name=Laser&level=beginner",
        headers: { "content-type": type },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        detail: "Request body is not valid JSON",
        status_code: 400,
        error_type: "bad_request",
      });
    }
  });

  it("treats an empty body with a JSON content type as no body (revoke with ?reason=)", async () => {
    const skill = await makeSkill();
    const granted = await callJson<{ id: string }>("POST", "/api/v1/skills/user-skills", {
      token: await admin(),
      body: { user_id: "empty-body-user", skill_id: skill.id },
    });
    const res = await callJson<{ status: string }>(
      "POST",
      `/api/v1/skills/user-skills/${granted.body.id}/revoke?reason=Safety%20violation`,
      { token: await admin(), rawBody: "", headers: { "content-type": "application/json" } },
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("revoked");
  });

  it("still validates an empty body where fields are required", async () => {
    const res = await callJson("POST", "/api/v1/skills/", {
      token: await admin(),
      rawBody: "",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_type: "validation_error" });
  });
});
