import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectValidation } from "../helpers/assertions";
import { envWithD1 } from "../helpers/d1-hooks";
import { makeEquipment, makeSkill } from "../helpers/factories";
import { call, callJson, envWith } from "../helpers/http";
import { shardOf } from "../helpers/shards";
import { admin, device, member } from "../helpers/tokens";

/**
 * Read-your-writes with D1 Sessions: a write answers `x-consistency-token` (its shard and that
 * session's bookmark); a read sending it back opens its session at that bookmark.
 */
const TOKEN = /^SHARD_\d+:[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/**
 * The test env recording how each shard session is opened (`SHARD_1 first-primary`,
 * `SHARD_0 <bookmark>`…) and which shards were queried on the binding itself, without a session.
 */
function recordingSessions(from: Env = env): { env: Env; opened: string[]; direct: string[] } {
  const opened: string[] = [];
  const direct: string[] = [];
  const recorded = envWithD1(
    (db, name) =>
      name === "DIRECTORY"
        ? db
        : new Proxy(db, {
            get(target, prop) {
              if (prop === "withSession") {
                return (arg?: string) => {
                  opened.push(`${name} ${arg ?? "first-unconstrained"}`);
                  return target.withSession(arg);
                };
              }
              const value = Reflect.get(target, prop, target);
              if (typeof value !== "function") return value;
              if (prop !== "prepare" && prop !== "batch") return value.bind(target);
              // Counted when called (shard discovery only looks the methods up).
              return (...args: unknown[]) => {
                direct.push(name);
                return value.apply(target, args);
              };
            },
          }),
    from,
  );
  return { env: recorded, opened, direct };
}

describe("x-consistency-token", () => {
  it("a write answers the token of its makerspace's shard, opened on the primary", async () => {
    const { env: rec, opened } = recordingSessions();
    const res = await call("POST", "/api/v1/skills/", {
      token: await admin("ms-1"),
      body: { name: "Token Skill", category: "Tokens", level: "beginner", makerspace_id: "ms-1" },
      env: rec,
    });
    expect(res.status).toBe(201);
    const token = res.headers.get("x-consistency-token") ?? "";
    expect(token).toMatch(TOKEN);
    expect(token.split(":")[0]).toBe(await shardOf("ms-1"));
    expect(opened.at(-1)).toBe(`${await shardOf("ms-1")} first-primary`);
  });

  it("a read sending it back is served by a session at that bookmark; other reads by any replica", async () => {
    const write = await call("POST", "/api/v1/skills/", {
      token: await admin("ms-1"),
      body: { name: "Round Trip Skill", category: "Tokens", level: "beginner", makerspace_id: "ms-1" },
    });
    const token = write.headers.get("x-consistency-token") as string;
    const { id } = (await write.json()) as { id: string };
    const [shard, bookmark] = token.split(":");

    const withToken = recordingSessions();
    const read = await callJson<{ id: string }>("GET", `/api/v1/skills/${id}`, {
      token: await member("user-1", "ms-1"),
      headers: { "x-consistency-token": token },
      env: withToken.env,
    });
    expect(read.body.id).toBe(id);
    expect(withToken.opened.at(-1)).toBe(`${shard} ${bookmark}`);
    expect(read.headers.get("x-consistency-token")).toBeNull();

    const without = recordingSessions();
    await callJson("GET", `/api/v1/skills/${id}`, { token: await member("user-1", "ms-1"), env: without.env });
    expect(without.opened.at(-1)).toBe(`${shard} first-unconstrained`);
  });

  it("a token of another shard is ignored (that write is not on this shard); a malformed one is 422", async () => {
    const other = (await shardOf("ms-1")) === "SHARD_1" ? "SHARD_0" : "SHARD_1";
    const foreign = `${other}:00000000-00000001-00000000-00000000000000000000000000000000`;
    const { env: rec, opened } = recordingSessions();
    const res = await callJson("GET", "/api/v1/skills/", {
      token: await member("user-1", "ms-1"),
      headers: { "x-consistency-token": foreign },
      env: rec,
    });
    expect(res.status).toBe(200);
    expect(opened.at(-1)).toBe(`${await shardOf("ms-1")} first-unconstrained`);
    for (const bad of ["nonsense", "SHARD_1:garbage", "SHARD_1"]) {
      expectValidation(
        await callJson("GET", "/api/v1/skills/", { token: await member(), headers: { "x-consistency-token": bad } }),
        ["x-consistency-token"],
      );
    }
  });

  it("verify and consistency=strong read the primary through the binding; the cached check any replica", async () => {
    const machine = await makeEquipment({ makerspace_id: "ms-1" });
    await makeSkill({ makerspace_id: "ms-1", equipment_ids: [machine.id] });
    const door = await device("door-token", "ms-1");
    const home = await shardOf("ms-1");
    // D1 runs every query made without a session on the primary: verify and strong reads open none.
    const primary: [string, string][] = [
      ["POST", `/api/v1/skills/access/equipment/${machine.id}/verify`],
      ["GET", `/api/v1/skills/access/equipment/${machine.id}?user_id=u&consistency=strong`],
    ];
    for (const [method, path] of primary) {
      const { env: rec, opened, direct } = recordingSessions();
      const res = await callJson(method, path, {
        token: door,
        body: method === "POST" ? { user_id: "u" } : undefined,
        env: rec,
      });
      expect([200, 403]).toContain(res.status);
      expect(opened, path).toEqual([]);
      expect(direct, path).toContain(home);
      expect(res.headers.get("x-consistency-token"), path).toBeNull();
    }
    const { env: rec, opened, direct } = recordingSessions();
    const path = `/api/v1/skills/access/equipment/${machine.id}?user_id=u2`;
    const res = await callJson("GET", path, { token: door, env: rec });
    expect(res.status).toBe(200);
    expect(opened.at(-1)).toBe(`${home} first-unconstrained`);
    expect(direct).toEqual([]);
  });

  it("browsers may send it and read it (CORS), and the document declares it", async () => {
    const cors = envWith({ ALLOWED_ORIGINS: "https://kiosk.example" });
    const preflight = await call("OPTIONS", "/api/v1/skills/", {
      headers: {
        origin: "https://kiosk.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "x-consistency-token",
      },
      env: cors,
    });
    expect(preflight.headers.get("access-control-allow-headers")).toContain("x-consistency-token");
    const res = await call("POST", "/api/v1/skills/", {
      token: await admin(),
      body: { name: "Cors Token Skill", category: "Tokens", level: "beginner", makerspace_id: "ms-1" },
      headers: { origin: "https://kiosk.example" },
      env: cors,
    });
    expect(res.headers.get("access-control-expose-headers")).toContain("x-consistency-token");

    const doc = (await (await call("GET", "/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: { name: string; in: string }[];
            responses: Record<string, { headers?: Record<string, unknown> }>;
          }
        >
      >;
    };
    const list = doc.paths["/api/v1/skills"]?.get;
    expect(list?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "x-consistency-token", in: "header" })]),
    );
    expect(Object.keys(doc.paths["/api/v1/skills"]?.post?.responses["201"]?.headers ?? {})).toContain(
      "x-consistency-token",
    );
    expect(Object.keys(list?.responses["200"]?.headers ?? {})).not.toContain("x-consistency-token");
  });
});
