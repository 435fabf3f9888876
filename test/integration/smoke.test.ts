import { describe, expect, it } from "vitest";
import { callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

describe("smoke", () => {
  it("health answers ok", async () => {
    const res = await callJson("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });
  it("creates and reads a skill", async () => {
    const t = await admin();
    const created = await callJson<{ id: string; name: string }>("POST", "/api/v1/skills/", {
      token: t,
      body: { name: "CNC Operation", category: "Machining", level: "advanced", makerspace_id: "ms-1" },
    });
    expect(created.status).toBe(201);
    const got = await callJson<{ name: string }>("GET", `/api/v1/skills/${created.body.id}`, { token: t });
    expect(got.body.name).toBe("CNC Operation");
  });
});
