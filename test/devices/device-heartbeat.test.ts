import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearDeviceCache } from "../../src/devices/cache";
import { expectError, expectUnauthorized, expectValidation } from "../helpers/assertions";
import { ISO_MS } from "../helpers/certifications";
import { type DeviceBody, registerDevice } from "../helpers/devices";
import { type EquipmentFixture, makeEquipment } from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { shardDb } from "../helpers/shards";
import { admin, token } from "../helpers/tokens";

describe("device heartbeats", () => {
  let laser: EquipmentFixture;
  let mill: EquipmentFixture;
  let otherMs: EquipmentFixture;

  beforeAll(async () => {
    laser = await makeEquipment({ name: "HB Laser" });
    mill = await makeEquipment({ name: "HB Mill" });
    otherMs = await makeEquipment({ makerspace_id: "ms-2" });
  });

  beforeEach(() => clearDeviceCache());

  describe("POST /devices/{id}/heartbeat", () => {
    it("records last_seen_at and firmware, turns the device online, and reports allow-list versions", async () => {
      const { device: d, token: t } = await registerDevice({ equipment_ids: [laser.id, mill.id] });
      const res = await callJson<{ server_time: string; allowlist_versions: Record<string, string> }>(
        "POST",
        `/api/v1/devices/${d.id}/heartbeat`,
        { token: t, body: { firmware: "1.2.3", allowlist_version: "abc" } },
      );
      expect(res.status).toBe(200);
      expect(res.body.server_time).toMatch(ISO_MS);
      expect(Object.keys(res.body.allowlist_versions).sort()).toEqual([laser.id, mill.id].sort());
      const list = await callJson("GET", `/api/v1/skills/access/equipment/${laser.id}/allowlist`, { token: t });
      expect(list.headers.get("etag")).toBe(`"${res.body.allowlist_versions[laser.id]}"`);

      const got = await callJson<DeviceBody>("GET", `/api/v1/devices/${d.id}`, { token: await admin() });
      expect(got.body).toMatchObject({ last_seen_at: res.body.server_time, online: true });
      const row = await (await shardDb("ms-1")).prepare("select firmware from devices where id = ?").bind(d.id).first();
      expect(row).toEqual({ firmware: "1.2.3" });
    });

    it("a revoked device is never online, even right after a heartbeat", async () => {
      const { device: d, token: t } = await registerDevice();
      expect((await callJson("POST", `/api/v1/devices/${d.id}/heartbeat`, { token: t })).status).toBe(200);
      await callJson("POST", `/api/v1/devices/${d.id}/revoke`, { token: await admin() });
      const got = await callJson<DeviceBody>("GET", `/api/v1/devices/${d.id}`, { token: await admin() });
      expect(got.body).toMatchObject({ status: "revoked", online: false });
    });

    it("goes offline after 3 × DEVICE_HEARTBEAT_SECONDS without a heartbeat", async () => {
      const { device: d, token: t } = await registerDevice();
      const hb = await callJson("POST", `/api/v1/devices/${d.id}/heartbeat`, { token: t });
      expect(hb.status).toBe(200);
      const past = new Date(Date.now() - 179_000).toISOString();
      await (await shardDb("ms-1")).prepare("update devices set last_seen_at = ? where id = ?").bind(past, d.id).run();
      const online = await callJson<DeviceBody>("GET", `/api/v1/devices/${d.id}`, { token: await admin() });
      expect(online.body.online).toBe(true);
      const short = await callJson<DeviceBody>("GET", `/api/v1/devices/${d.id}`, {
        token: await admin(),
        env: envWith({ DEVICE_HEARTBEAT_SECONDS: "10" }),
      });
      expect(short.body.online).toBe(false);
      const longAgo = new Date(Date.now() - 181_000).toISOString();
      await (await shardDb("ms-1"))
        .prepare("update devices set last_seen_at = ? where id = ?")
        .bind(longAgo, d.id)
        .run();
      const offline = await callJson<DeviceBody>("GET", `/api/v1/devices/${d.id}`, { token: await admin() });
      expect(offline.body).toMatchObject({ last_seen_at: longAgo, online: false });
    });

    it("covers every item of the makerspace for a device with no equipment limit", async () => {
      const { device: d, token: t } = await registerDevice({ kind: "kiosk" });
      const res = await callJson<{ allowlist_versions: Record<string, string> }>(
        "POST",
        `/api/v1/devices/${d.id}/heartbeat`,
        { token: t, body: {} },
      );
      expect(res.status).toBe(200);
      const keys = Object.keys(res.body.allowlist_versions);
      expect(keys).toEqual(expect.arrayContaining([laser.id, mill.id]));
      expect(keys).not.toContain(otherMs.id);
    });

    it("is only for the device itself", async () => {
      const { device: d, token: own } = await registerDevice();
      const { token: otherToken } = await registerDevice();
      expectError(await callJson("POST", `/api/v1/devices/${d.id}/heartbeat`, { token: otherToken }), 403, "forbidden");
      expectError(
        await callJson("POST", `/api/v1/devices/${d.id}/heartbeat`, { token: otherToken, body: { firmware: 5 } }),
        403,
        "forbidden",
      );
      expectError(
        await callJson("POST", `/api/v1/devices/${d.id}/heartbeat`, { token: await admin() }),
        403,
        "forbidden",
      );
      const adhoc = await token({ role: "device", sub: "dev_unregistered", claims: { jti: "x" } });
      expectUnauthorized(await callJson("POST", "/api/v1/devices/dev_unregistered/heartbeat", { token: adhoc }));
      // Where unregistered devices are allowed (local use), there is no row to beat for.
      expectError(
        await callJson("POST", "/api/v1/devices/dev_unregistered/heartbeat", {
          token: adhoc,
          env: envWith({ ALLOW_UNREGISTERED_DEVICES: "true" }),
        }),
        404,
        "device_not_found",
      );
      expectValidation(
        await callJson("POST", `/api/v1/devices/${d.id}/heartbeat`, {
          token: own,
          body: { firmware: "x".repeat(101) },
        }),
        ["firmware"],
      );
    });
  });
});
