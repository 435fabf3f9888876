import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { expectError, expectValidation } from "../helpers/assertions";
import { envWithD1, hookD1 } from "../helpers/d1-hooks";
import { makeSkill, type SkillFixture } from "../helpers/factories";
import { call, callJson } from "../helpers/http";
import { admin } from "../helpers/tokens";

const SECRET_SQL = "SELECT secret FROM users WHERE password_hash = 'x'";

/** The test env with shards whose every statement fails (a wrapper, not a mock of D1). */
function envWithBrokenDb(): Env {
  const fail = () => {
    throw new Error(`D1_ERROR: no such table: users: SQLITE_ERROR in ${SECRET_SQL}`);
  };
  return envWithD1((db, name) => (name === "DIRECTORY" ? db : hookD1(db, { prepare: fail, batch: fail })));
}

let skill: SkillFixture;
beforeAll(async () => {
  skill = await makeSkill();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("404 not_found and 405 method_not_allowed", () => {
  it("unknown routes are 404 not_found", async () => {
    const t = await admin();
    expectError(await callJson("GET", "/nope"), 404, "not_found");
    expectError(await callJson("GET", "/api/v1/nope", { token: t }), 404, "not_found");
    expectError(await callJson("GET", `/api/v1/skills/${skill.id}/extra/segments`, { token: t }), 404, "not_found");
    expectError(await callJson("POST", "/api/v2/skills", { token: t, body: {} }), 404, "not_found");
  });

  it.each([
    ["DELETE", "/api/v1/skills/{id}", ["GET", "PUT"]],
    ["DELETE", "/api/v1/skills/{id}/", ["GET", "PUT"]],
    ["PATCH", "/api/v1/skills/{id}", ["GET", "PUT"]],
    ["DELETE", "/api/v1/skills", ["GET", "POST"]],
    ["PUT", "/api/v1/skills/", ["GET", "POST"]],
    ["DELETE", "/api/v1/equipment/eq-1", ["GET", "PUT"]],
    ["PATCH", "/api/v1/equipment", ["GET", "POST"]],
    ["POST", "/health", ["GET"]],
    ["DELETE", "/openapi.json", ["GET"]],
  ])("%s %s → 405 method_not_allowed with Allow", async (method, template, allowed) => {
    const path = template.replace("{id}", skill.id);
    const res = await callJson(method, path, { token: await admin(), body: { name: "x" } });
    expectError(res, 405, "method_not_allowed");
    const allow = (res.headers.get("allow") ?? "").split(/,\s*/);
    expect(allow).toEqual(expect.arrayContaining(allowed));
  });
});

describe("400 bad_request", () => {
  it.each([
    ["POST", "/api/v1/skills/"],
    ["PUT", "/api/v1/skills/{id}"],
    ["POST", "/api/v1/equipment"],
  ])("%s %s with a body that is not JSON", async (method, template) => {
    const path = template.replace("{id}", skill.id);
    for (const rawBody of ["{not json", '{"name": "x",}', "[1, 2", "\u0000"]) {
      expectError(await callJson(method, path, { token: await admin(), rawBody }), 400, "bad_request");
    }
  });
});

describe("413 payload_too_large", () => {
  const skillBody = (size: number) => {
    const base = JSON.stringify({
      name: "Big",
      category: "Safety",
      level: "beginner",
      makerspace_id: "ms-1",
      description: "",
    });
    return `${base.slice(0, -2)}${"d".repeat(size - base.length)}"}`;
  };

  it("a body over 64 KiB", async () => {
    const raw = skillBody(64 * 1024 + 1);
    expect(raw.length).toBe(65_537);
    expectError(
      await callJson("POST", "/api/v1/skills/", { token: await admin(), rawBody: raw }),
      413,
      "payload_too_large",
    );
    const big = JSON.stringify({ name: "x", makerspace_id: "ms-1", location: "l".repeat(200_000) });
    expectError(
      await callJson("POST", "/api/v1/equipment", { token: await admin(), rawBody: big }),
      413,
      "payload_too_large",
    );
  });

  it("a body of exactly 64 KiB is read (and then validated)", async () => {
    const raw = skillBody(64 * 1024);
    expect(raw.length).toBe(65_536);
    expectValidation(await callJson("POST", "/api/v1/skills/", { token: await admin(), rawBody: raw }), [
      "description",
    ]);
  });

  it("a streamed body without content-length over 64 KiB", async () => {
    const chunk = new TextEncoder().encode("a".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 6) controller.close();
        else {
          sent += 1;
          controller.enqueue(chunk);
        }
      },
    });
    const res = await call("POST", "/api/v1/skills/", {
      token: await admin(),
      headers: { "content-type": "application/json" },
      // `call` hands rawBody to `new Request`, which takes a stream as well as a string.
      rawBody: stream as unknown as string,
    });
    const body = await res.json();
    expectError({ status: res.status, body, headers: res.headers }, 413, "payload_too_large");
  });
});

describe("422 validation_error", () => {
  it("has errors[] of { path, message } strings", async () => {
    const res = await callJson<{ errors: unknown[] }>("POST", "/api/v1/skills/", {
      token: await admin(),
      body: { name: "bad_name", level: "guru", makerspace_id: "ms-1" },
    });
    expectValidation(res, ["name", "category", "level"]);
    for (const e of res.body.errors) {
      expect(Object.keys(e as object).sort()).toEqual(["message", "path"]);
    }
  });

  it("covers query and path parameters too", async () => {
    expectValidation(await callJson("GET", "/api/v1/skills?limit=-3", { token: await admin() }), ["limit"]);
    const longId = "x".repeat(101);
    expectValidation(await callJson("GET", `/api/v1/skills/${longId}`, { token: await admin() }), ["id"]);
  });
});

describe("500 internal_error", () => {
  it("hides the cause, carries request_id = x-request-id, and logs it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await call("GET", `/api/v1/skills/${skill.id}`, { token: await admin(), env: envWithBrokenDb() });
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(res.status).toBe(500);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    expect(body).toEqual({
      detail: "Internal server error",
      status_code: 500,
      error_type: "internal_error",
      request_id: requestId,
    });
    for (const leak of ["SELECT secret FROM", "SQLITE", "D1_ERROR", "users", "stack", "    at "]) {
      expect(text).not.toContain(leak);
    }
    const lines = logged.mock.calls.map((args) => String(args[0]));
    expect(lines.some((l) => l.includes(requestId as string) && l.includes("SELECT secret FROM"))).toBe(true);
  });

  it("keeps a well-formed incoming x-request-id, on writes too", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await callJson("POST", "/api/v1/skills/", {
      token: await admin(),
      env: envWithBrokenDb(),
      headers: { "x-request-id": "req-from-client-0001" },
      body: { name: "Never Stored", category: "Safety", level: "beginner", makerspace_id: "ms-1" },
    });
    expectError(res, 500, "internal_error", { request_id: "req-from-client-0001" });
    expect(res.headers.get("x-request-id")).toBe("req-from-client-0001");
    expect(JSON.stringify(res.body)).not.toContain("SELECT secret FROM");
  });
});

describe("x-request-id", () => {
  it("is on every response, success or error", async () => {
    const t = await admin();
    const cases: [string, string, Parameters<typeof call>[2]][] = [
      ["GET", "/health", {}],
      ["GET", "/openapi.json", {}],
      ["GET", "/docs", {}],
      ["GET", "/api/v1/skills", { token: t }],
      ["POST", "/api/v1/equipment", { token: t, body: { name: "Rid", makerspace_id: "ms-1" } }],
      ["GET", "/api/v1/skills", {}],
      ["GET", "/api/v1/skills", { token: await admin("ms-1", "x"), headers: { authorization: "Bearer x" } }],
      ["GET", "/nope", {}],
      ["DELETE", `/api/v1/skills/${skill.id}`, { token: t }],
      ["POST", "/api/v1/skills", { token: t, rawBody: "{" }],
      ["POST", "/api/v1/skills", { token: t, body: {} }],
      [
        "OPTIONS",
        "/api/v1/skills",
        { headers: { origin: "https://evil.example", "access-control-request-method": "POST" } },
      ],
    ];
    for (const [method, path, opts] of cases) {
      const res = await call(method, path, opts);
      await res.arrayBuffer();
      expect(res.headers.get("x-request-id"), `${method} ${path} → ${res.status}`).toMatch(/^[A-Za-z0-9._-]{8,100}$/);
    }
  });

  it("a malformed incoming id is replaced, a well-formed one kept", async () => {
    const kept = await call("GET", "/health", { headers: { "x-request-id": "abc.DEF_123-456" } });
    expect(kept.headers.get("x-request-id")).toBe("abc.DEF_123-456");
    for (const bad of ["short", "has spaces in it", "<script>alert(1)</script>", "x".repeat(101)]) {
      const res = await call("GET", "/health", { headers: { "x-request-id": bad } });
      expect(res.headers.get("x-request-id")).not.toBe(bad);
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
