import { decodeJwt } from "jose";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearDeviceCache } from "../../src/devices/cache";
import { expectError, expectUnauthorized, expectValidation } from "../helpers/assertions";
import { ISO_MS } from "../helpers/certifications";
import { countingEnv } from "../helpers/counting-d1";
import { auditEvents, type DeviceBody, registerDevice } from "../helpers/devices";
import { type EquipmentFixture, makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson, envWith } from "../helpers/http";
import { shardDb } from "../helpers/shards";
import { adhocDevice, admin, device, member, superAdmin, token } from "../helpers/tokens";

const requirements = "/api/v1/skills/equipment-requirements";
const verify = (id: string) => `/api/v1/skills/access/equipment/${id}/verify`;

describe("devices", () => {
  let laser: EquipmentFixture;
  let mill: EquipmentFixture;
  let otherMs: EquipmentFixture;

  beforeAll(async () => {
    laser = await makeEquipment({ name: "Laser" });
    mill = await makeEquipment({ name: "Mill" });
    otherMs = await makeEquipment({ makerspace_id: "ms-2" });
    const skill = await makeSkill({ equipment_ids: [laser.id, mill.id] });
    await seedCertification({ user_id: "dev-holder", skill_id: skill.id });
  });

  beforeEach(() => clearDeviceCache());

  describe("POST /devices", () => {
    it("registers a device and returns its token once; only the jti is stored", async () => {
      const before = Date.now();
      const res = await callJson<{ device: DeviceBody; token: string }>("POST", "/api/v1/devices", {
        token: await admin(),
        body: { name: "Laser door", kind: "door", makerspace_id: "ms-1", equipment_ids: [laser.id, laser.id] },
      });
      expect(res.status).toBe(201);
      const { device: d, token: t } = res.body;
      expect(d).toEqual({
        id: expect.stringMatching(/^dev_/),
        name: "Laser door",
        kind: "door",
        makerspace_id: "ms-1",
        equipment_ids: [laser.id],
        status: "active",
        last_seen_at: null,
        online: false,
        created_at: expect.stringMatching(ISO_MS),
        updated_at: d.created_at,
      });
      const claims = decodeJwt(t);
      expect(claims).toMatchObject({ sub: d.id, role: "device", makerspace_id: "ms-1", device_kind: "door" });
      expect(claims.jti).toEqual(expect.any(String));
      const lifetime = (claims.exp as number) - Math.floor(before / 1000);
      expect(Math.abs(lifetime - 365 * 86_400)).toBeLessThan(60);
      const row = await (await shardDb("ms-1"))
        .prepare("select * from devices where id = ?")
        .bind(d.id)
        .first<Record<string, unknown>>();
      expect(row?.token_jti).toBe(claims.jti);
      expect(JSON.stringify(row)).not.toContain(t);
      const events = await auditEvents((e) => e.action === "device_registered" && e.metadata.device_id === d.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ makerspace_id: "ms-1", performed_by: "admin-1", user_id: null });
      expect(JSON.stringify(events[0])).not.toContain(t);
      expect(JSON.stringify(events[0])).not.toContain(claims.jti as string);
    });

    it("honours DEVICE_TOKEN_TTL_DAYS", async () => {
      const res = await callJson<{ token: string }>("POST", "/api/v1/devices", {
        token: await admin(),
        body: { name: "Kiosk", kind: "kiosk", makerspace_id: "ms-1" },
        env: envWith({ DEVICE_TOKEN_TTL_DAYS: "2" }),
      });
      expect(res.status).toBe(201);
      const claims = decodeJwt(res.body.token);
      expect((claims.exp as number) - (claims.iat as number)).toBe(2 * 86_400);
    });

    it("refuses equipment that is unknown or of another makerspace (422)", async () => {
      for (const ids of [["nope-1"], [otherMs.id], [laser.id, "nope-2"]]) {
        const res = await callJson("POST", "/api/v1/devices", {
          token: await admin(),
          body: { name: "D", kind: "machine", makerspace_id: "ms-1", equipment_ids: ids },
        });
        expectValidation(res, ["equipment_ids"]);
      }
    });

    it("validates the body and guards role and makerspace", async () => {
      const bad = await callJson("POST", "/api/v1/devices", {
        token: await admin(),
        body: { name: "", kind: "gate", makerspace_id: "ms-1" },
      });
      expectValidation(bad, ["name", "kind"]);
      const body = { name: "D", kind: "door", makerspace_id: "ms-1" };
      expectError(await callJson("POST", "/api/v1/devices", { token: await member(), body }), 403, "forbidden");
      expectError(await callJson("POST", "/api/v1/devices", { token: await device(), body }), 403, "forbidden");
      expectError(await callJson("POST", "/api/v1/devices", { token: await admin("ms-2"), body }), 403, "forbidden");
      const root = await callJson("POST", "/api/v1/devices", { token: await superAdmin(), body });
      expect(root.status).toBe(201);
    });
  });

  describe("GET /devices", () => {
    it("lists the caller's makerspace, filtered by kind and status", async () => {
      const kiosk = await registerDevice({ name: "List kiosk", kind: "kiosk" });
      const revoked = await registerDevice({ name: "List revoked", kind: "kiosk" });
      await callJson("POST", `/api/v1/devices/${revoked.device.id}/revoke`, { token: await admin() });
      const other = await registerDevice({ name: "Other", kind: "kiosk", makerspace_id: "ms-2" });

      const res = await callJson<DeviceBody[]>("GET", "/api/v1/devices?kind=kiosk&status=active", {
        token: await admin(),
      });
      expect(res.status).toBe(200);
      const ids = res.body.map((d) => d.id);
      expect(ids).toContain(kiosk.device.id);
      expect(ids).not.toContain(revoked.device.id);
      expect(ids).not.toContain(other.device.id);
      expect(res.body.every((d) => d.kind === "kiosk" && d.status === "active" && d.makerspace_id === "ms-1")).toBe(
        true,
      );
      const rev = await callJson<DeviceBody[]>("GET", "/api/v1/devices?status=revoked", { token: await admin() });
      expect(rev.body.map((d) => d.id)).toContain(revoked.device.id);
      expectError(
        await callJson("GET", "/api/v1/devices?makerspace_id=ms-2", { token: await admin() }),
        403,
        "forbidden",
      );
      expectValidation(await callJson("GET", "/api/v1/devices?kind=gate", { token: await admin() }), ["kind"]);
      expectError(await callJson("GET", "/api/v1/devices", { token: await member() }), 403, "forbidden");
    });

    it("gets one device; another makerspace's or an unknown one is 404", async () => {
      const { device: d } = await registerDevice();
      const res = await callJson<DeviceBody>("GET", `/api/v1/devices/${d.id}`, { token: await admin() });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(d);
      expectError(
        await callJson("GET", `/api/v1/devices/${d.id}`, { token: await admin("ms-2") }),
        404,
        "device_not_found",
      );
      expectError(await callJson("GET", "/api/v1/devices/dev_nope", { token: await admin() }), 404, "device_not_found");
    });
  });

  describe("device tokens", () => {
    it("a registered device's token works until rotated; then only the new one does", async () => {
      const { device: d, token: first } = await registerDevice();
      expect((await callJson("GET", requirements, { token: first })).status).toBe(200);

      const rotated = await callJson<{ device: DeviceBody; token: string }>(
        "POST",
        `/api/v1/devices/${d.id}/rotate-token`,
        { token: await admin() },
      );
      expect(rotated.status).toBe(200);
      expect(rotated.body.device).toMatchObject({ id: d.id, status: "active" });
      expect(rotated.body.token).not.toBe(first);
      expectUnauthorized(await callJson("GET", requirements, { token: first }));
      expect((await callJson("GET", requirements, { token: rotated.body.token })).status).toBe(200);

      const again = await callJson<{ token: string }>("POST", `/api/v1/devices/${d.id}/rotate-token`, {
        token: await admin(),
      });
      expectUnauthorized(await callJson("GET", requirements, { token: rotated.body.token }));
      expect((await callJson("GET", requirements, { token: again.body.token })).status).toBe(200);

      const events = await auditEvents((e) => e.action === "device_token_rotated" && e.metadata.device_id === d.id);
      expect(events).toHaveLength(2);
      expect(JSON.stringify(events)).not.toContain(again.body.token);
    });

    it("a token rotated through another isolate is accepted within a second (a stale cached row is re-read)", async () => {
      const { device: d, token: first } = await registerDevice();
      expect((await callJson("GET", requirements, { token: first })).status).toBe(200);
      // The rotation happens elsewhere: this isolate's cache still holds the old jti.
      const jti = crypto.randomUUID();
      await (await shardDb("ms-1")).prepare("update devices set token_jti = ? where id = ?").bind(jti, d.id).run();
      const fresh = await token({
        role: "device",
        sub: d.id,
        claims: { jti, device_kind: "door" },
      });
      // Within a second of the cached read the row is not re-read: no D1 query per refused request.
      const soon = countingEnv();
      expectUnauthorized(await callJson("GET", requirements, { token: fresh, env: soon.env }));
      expect(soon.counter.roundTrips).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await callJson("GET", requirements, { token: fresh })).status).toBe(200);
      expectUnauthorized(await callJson("GET", requirements, { token: first }));
    });

    it("revocation rejects every token of the device; revoking twice is 409", async () => {
      const { device: d, token: t } = await registerDevice();
      expect((await callJson("GET", requirements, { token: t })).status).toBe(200);
      const res = await callJson<DeviceBody>("POST", `/api/v1/devices/${d.id}/revoke`, { token: await admin() });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: d.id, status: "revoked" });
      expectUnauthorized(await callJson("GET", requirements, { token: t }));
      expectUnauthorized(await callJson("POST", verify(laser.id), { token: t, body: { user_id: "dev-holder" } }));
      // Even a token carrying the old jti minted anew (the row's jti was replaced too).
      const claims = decodeJwt(t);
      const forged = await token({ role: "device", sub: d.id, claims: { jti: claims.jti } });
      expectUnauthorized(await callJson("GET", requirements, { token: forged }));

      expectError(
        await callJson("POST", `/api/v1/devices/${d.id}/revoke`, { token: await admin() }),
        409,
        "invalid_state",
      );
      expectError(
        await callJson("POST", `/api/v1/devices/${d.id}/rotate-token`, { token: await admin() }),
        409,
        "invalid_state",
      );
      const events = await auditEvents((e) => e.action === "device_revoked" && e.metadata.device_id === d.id);
      expect(events).toHaveLength(1);
      expectError(
        await callJson("POST", `/api/v1/devices/${d.id}/revoke`, { token: await admin("ms-2") }),
        404,
        "device_not_found",
      );
    });

    it("a revocation made elsewhere is honoured once this isolate's cache entry ages out (≤ 30 s)", async () => {
      const { device: d, token: t } = await registerDevice();
      expect((await callJson("GET", requirements, { token: t })).status).toBe(200);
      await (await shardDb("ms-1")).prepare("update devices set status = 'revoked' where id = ?").bind(d.id).run();
      // Still cached here: the documented window.
      expect((await callJson("GET", requirements, { token: t })).status).toBe(200);
      clearDeviceCache();
      expectUnauthorized(await callJson("GET", requirements, { token: t }));
    });

    it("unregistered device tokens are 401: no row, no jti, or a revoked device's id", async () => {
      const { device: active } = await registerDevice();
      const { device: revoked, token: revokedToken } = await registerDevice();
      await callJson("POST", `/api/v1/devices/${revoked.id}/revoke`, { token: await admin() });
      const { jti } = decodeJwt(revokedToken);
      for (const refused of [
        await adhocDevice("bench-door", "ms-1", { jti: "local-1" }),
        await adhocDevice("bench-door"),
        await adhocDevice(active.id, "ms-1", { device_kind: "kiosk" }),
        await adhocDevice(revoked.id),
        await adhocDevice(revoked.id, "ms-1", { jti }),
      ]) {
        expectUnauthorized(await callJson("GET", requirements, { token: refused }));
        expectUnauthorized(
          await callJson("POST", verify(laser.id), { token: refused, body: { user_id: "dev-holder" } }),
        );
      }
    });

    it("ALLOW_UNREGISTERED_DEVICES=true admits tokens naming no device, never a registered one's", async () => {
      const local = envWith({ ALLOW_UNREGISTERED_DEVICES: "true" });
      for (const adhoc of [
        await adhocDevice("bench-door", "ms-1", { jti: "local-1" }),
        await adhocDevice("bench-door"),
      ]) {
        expect((await callJson("GET", requirements, { token: adhoc, env: local })).status).toBe(200);
      }
      const { device: active, token: current } = await registerDevice();
      const { device: revoked } = await registerDevice();
      await callJson("POST", `/api/v1/devices/${revoked.id}/revoke`, { token: await admin() });
      expect((await callJson("GET", requirements, { token: current, env: local })).status).toBe(200);
      for (const refused of [
        await adhocDevice(active.id),
        await adhocDevice(active.id, "ms-1", { jti: "guessed" }),
        await adhocDevice(revoked.id),
      ]) {
        expectUnauthorized(await callJson("GET", requirements, { token: refused, env: local }));
      }
    });

    it("a device registered through another isolate is accepted within a second (a cached miss is re-read)", async () => {
      const id = `dev_${crypto.randomUUID()}`;
      const t = await token({ role: "device", sub: id, claims: { jti: "jti-elsewhere", device_kind: "door" } });
      expectUnauthorized(await callJson("GET", requirements, { token: t }));
      const at = new Date().toISOString();
      await (await shardDb("ms-1"))
        .prepare(
          "insert into devices (id, name, kind, makerspace_id, token_jti, created_at, updated_at) values (?, 'Elsewhere', 'door', 'ms-1', 'jti-elsewhere', ?, ?)",
        )
        .bind(id, at, at)
        .run();
      const soon = countingEnv();
      expectUnauthorized(await callJson("GET", requirements, { token: t, env: soon.env }));
      expect(soon.counter.roundTrips).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await callJson("GET", requirements, { token: t })).status).toBe(200);
    });

    it("a device limited to some equipment gets 403 for every other item", async () => {
      const { token: t } = await registerDevice({ equipment_ids: [laser.id] });
      const ok = await callJson("POST", verify(laser.id), { token: t, body: { user_id: "dev-holder" } });
      expect(ok.status).toBe(200);
      expectError(
        await callJson("POST", verify(mill.id), { token: t, body: { user_id: "dev-holder" } }),
        403,
        "forbidden",
      );
      expectError(
        await callJson("GET", `/api/v1/skills/access/equipment/${mill.id}?user_id=dev-holder`, { token: t }),
        403,
        "forbidden",
      );
      expectError(
        await callJson("GET", `/api/v1/skills/access/equipment/${mill.id}/allowlist`, { token: t }),
        403,
        "forbidden",
      );
    });

    it("a device limited to some equipment sees only those items in the bulk check", async () => {
      const { token: t } = await registerDevice({ equipment_ids: [laser.id] });
      const res = await callJson<{
        equipment_access: { equipment_id: string }[];
        summary: { total_equipment: number };
      }>("GET", "/api/v1/skills/access/equipment?user_id=dev-holder", { token: t });
      expect(res.status).toBe(200);
      expect(res.body.equipment_access.map((e) => e.equipment_id)).toEqual([laser.id]);
      expect(res.body.summary.total_equipment).toBe(1);
      const unrestricted = await callJson<{ equipment_access: { equipment_id: string }[] }>(
        "GET",
        "/api/v1/skills/access/equipment?user_id=dev-holder",
        { token: (await registerDevice()).token },
      );
      expect(unrestricted.body.equipment_access.map((e) => e.equipment_id)).toEqual(
        expect.arrayContaining([laser.id, mill.id]),
      );
    });

    it("a device limited to some equipment reads only those items", async () => {
      const { token: t } = await registerDevice({ equipment_ids: [laser.id] });
      const list = await callJson<{ id: string }[]>("GET", "/api/v1/equipment", { token: t });
      expect(list.body.map((e) => e.id)).toEqual([laser.id]);
      expect((await callJson("GET", `/api/v1/equipment/${laser.id}`, { token: t })).status).toBe(200);
      expectError(await callJson("GET", `/api/v1/equipment/${mill.id}`, { token: t }), 403, "forbidden");
      const reqs = await callJson<{ equipment_id: string }[]>("GET", "/api/v1/skills/equipment-requirements", {
        token: t,
      });
      expect(reqs.body.map((e) => e.equipment_id)).toEqual([laser.id]);
    });

    it("a device acts only for its own makerspace", async () => {
      const { token: t } = await registerDevice();
      expectError(
        await callJson("POST", verify(otherMs.id), { token: t, body: { user_id: "x" } }),
        404,
        "equipment_not_found",
      );
      expectError(
        await callJson("GET", `/api/v1/skills/access/equipment/${otherMs.id}/allowlist`, { token: t }),
        404,
        "equipment_not_found",
      );
      expectError(await callJson("GET", `${requirements}?makerspace_id=ms-2`, { token: t }), 403, "forbidden");
      // And for nothing an admin does.
      expectError(await callJson("GET", "/api/v1/devices", { token: t }), 403, "forbidden");
      expectError(await callJson("GET", "/api/v1/badges", { token: t }), 403, "forbidden");
    });
  });
});
