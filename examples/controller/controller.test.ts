// npm run test:controller — the reference controller against a real local server (the built
// Worker on Miniflare, fresh state): online answers, then the server is stopped and the offline
// answers and the fail-secure cut-over at `valid_until` are checked on the controller's clock.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { api, freePort, mintToken, startServer } from "../../scripts/lib/client.mjs";
import { Controller, normaliseUid, sha256Hex } from "./controller";

const TTL_SECONDS = 7200;
const HOUR = 3_600_000;

type Answer = Awaited<ReturnType<ReturnType<typeof api>>>;

function check(res: Answer, status: number) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

describe("reference controller", () => {
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  let baseUrl: string;
  let admin: ReturnType<typeof api>;
  let equipmentId: string;
  let deviceToken: string;
  let skew = 0;
  const clock = () => Date.now() + skew;
  const badges = { holder: "04:A1:B2:C3:D4:E5:F6", soon: "04-11-22-33-44-55-66", none: "04 99 88 77 66 55 44" };
  const unknown = "DE:AD:BE:EF:00:11:22";
  let controller: Controller;

  before(async () => {
    server = await startServer({ port: await freePort(), env: { ALLOWLIST_TTL_SECONDS: String(TTL_SECONDS) } });
    baseUrl = server.url;
    admin = api(baseUrl, await mintToken({ role: "makerspace_admin", sub: "admin-1", makerspace: "ms-1" }));
    equipmentId = check(await admin("POST", "/api/v1/equipment", { name: "Laser", makerspace_id: "ms-1" }), 201).id;
    const skill = check(
      await admin("POST", "/api/v1/skills/", {
        name: "Laser Safety",
        category: "Safety",
        level: "beginner",
        makerspace_id: "ms-1",
        equipment_ids: [equipmentId],
      }),
      201,
    );
    const grant = (user_id: string, expires_at: string) =>
      admin("POST", "/api/v1/skills/user-skills", { user_id, skill_id: skill.id, expires_at });
    check(await grant("holder", new Date(Date.now() + 30 * 24 * HOUR).toISOString()), 201);
    check(await grant("soon", new Date(Date.now() + HOUR).toISOString()), 201);
    for (const [user, uid] of Object.entries(badges)) {
      check(await admin("POST", "/api/v1/badges", { badge_uid: uid, user_id: user, makerspace_id: "ms-1" }), 201);
    }
    const reg = check(
      await admin("POST", "/api/v1/devices", {
        name: "Laser door",
        kind: "door",
        makerspace_id: "ms-1",
        equipment_ids: [equipmentId],
      }),
      201,
    );
    deviceToken = reg.token;
    controller = new Controller({ baseUrl, token: deviceToken, equipmentId, now: clock, timeoutMs: 2000 });
  });

  after(async () => {
    await server?.stop();
  });

  it("fetches and verifies the signed list, then polls with If-None-Match (304)", async () => {
    assert.equal(await controller.refresh(), "updated");
    const list = controller.list;
    assert.ok(list);
    assert.equal(list.equipment_id, equipmentId);
    assert.equal(list.open, false);
    assert.equal(Date.parse(list.valid_until) - Date.parse(list.generated_at), TTL_SECONDS * 1000);
    assert.deepEqual(
      list.entries.map((e) => e.user_id),
      ["holder", "soon"],
    );
    const holderHash = await sha256Hex(normaliseUid(badges.holder)!);
    assert.deepEqual(list.entries[0]?.badge_sha256, [holderHash]);
    assert.equal(await controller.refresh(), "not_modified");
  });

  it("sends heartbeats that report the held version", async () => {
    const hb = await controller.heartbeat();
    assert.equal(hb?.allowlist_versions[equipmentId], controller.list?.version);
    const device = check(await admin("GET", `/api/v1/devices/${controller.deviceId}`), 200);
    assert.equal(device.online, true);
  });

  it("answers online through verify", async () => {
    assert.deepEqual(await controller.decide(badges.holder), {
      allow: true,
      source: "online",
      reason: "All required skills certified",
      user_id: "holder",
    });
    const none = await controller.decide(badges.none);
    assert.equal(none.allow, false);
    assert.equal(none.source, "online");
    assert.match(none.reason, /Missing required skills: Laser Safety/);
    assert.equal(none.denial, "missing_skills");
    assert.deepEqual(await controller.decide(unknown), {
      allow: false,
      source: "online",
      reason: "Unknown badge",
      denial: "unknown_badge",
    });
  });

  it("refuses a tampered list and keeps the verified one", async () => {
    const held = controller.list;
    assert.ok(held);
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await realFetch(url, init);
      if (!String(url).endsWith("/allowlist") || res.status !== 200) return res;
      const body = (await res.json()) as { jws: string };
      const [h, p = "", s] = body.jws.split(".");
      const payload = JSON.parse(Buffer.from(p, "base64url").toString());
      payload.open = true;
      const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
      return new Response(JSON.stringify({ ...body, jws: forged }), { status: 200 });
    };
    try {
      const aged = { ...held, valid_until: held.generated_at };
      controller.list = aged;
      assert.equal(await controller.refresh(), "invalid");
      assert.equal(controller.list, aged);
    } finally {
      globalThis.fetch = realFetch;
      controller.list = held;
    }
  });

  it("decides from its verified list while its badge budget is spent (429)", async () => {
    const reg = check(
      await admin("POST", "/api/v1/devices", { name: "Busy door", kind: "door", makerspace_id: "ms-1" }),
      201,
    );
    const busy = new Controller({ baseUrl, token: reg.token, equipmentId, now: clock });
    assert.equal(await busy.refresh(), "updated");
    // RATE_BADGE_PER_MINUTE (60) online answers at most in one minute's window, then the list decides.
    let decision = await busy.decide(badges.holder);
    for (let i = 0; i < 150 && decision.source === "online"; i++) decision = await busy.decide(badges.holder);
    assert.deepEqual(decision, { allow: true, source: "offline", reason: "On the allow-list", user_id: "holder" });
    assert.equal((await busy.decide(badges.none)).allow, false);
  });

  it("a revoked device is cut off: its list is dropped and it lets no one in", async () => {
    const reg = check(
      await admin("POST", "/api/v1/devices", { name: "Spare", kind: "door", makerspace_id: "ms-1" }),
      201,
    );
    const spare = new Controller({ baseUrl, token: reg.token, equipmentId, now: clock });
    assert.equal(await spare.refresh(), "updated");
    check(await admin("POST", `/api/v1/devices/${reg.device.id}/revoke`), 200);
    // Revocation reaches every isolate within 60 s; the local server is one isolate: at once.
    assert.equal(await spare.refresh(), "cut_off");
    assert.equal(spare.list, null);
    assert.deepEqual(await spare.decide(badges.holder), {
      allow: false,
      source: "online",
      reason: "Device token has been revoked or replaced",
    });
    assert.equal((await spare.decideOffline(badges.holder)).allow, false);
  });

  it("offline: answers from the verified list, drops expired entries, and refuses all past valid_until", async () => {
    await server?.stop();
    server = null;
    assert.equal(await controller.refresh(), "offline");

    const holder = await controller.decide(badges.holder);
    assert.deepEqual(holder, { allow: true, source: "offline", reason: "On the allow-list", user_id: "holder" });
    assert.equal((await controller.decide(badges.soon)).allow, true);
    assert.deepEqual(await controller.decide(badges.none), {
      allow: false,
      source: "offline",
      reason: "Not on the allow-list",
    });
    assert.equal((await controller.decide(unknown)).allow, false);

    // An hour later the "soon" certification has expired; the list itself is still valid.
    skew = HOUR + 60_000;
    assert.deepEqual(await controller.decide(badges.soon), {
      allow: false,
      source: "offline",
      reason: "Certification expired",
    });
    assert.equal((await controller.decide(badges.holder)).allow, true);

    // Past valid_until: fail-secure, nobody gets in.
    skew = Date.parse(controller.list?.valid_until ?? "") - Date.now();
    assert.deepEqual(await controller.decide(badges.holder), {
      allow: false,
      source: "offline",
      reason: "Allow-list expired",
    });
  });
});
