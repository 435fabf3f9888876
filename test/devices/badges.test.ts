import { beforeAll, describe, expect, it } from "vitest";
import { expectError, expectValidation } from "../helpers/assertions";
import { queueSpy } from "../helpers/audit";
import { ISO_MS } from "../helpers/certifications";
import { auditEvents, type BadgeBody, randomUid, registerBadge, registerDevice } from "../helpers/devices";
import { type EquipmentFixture, makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { shardDb } from "../helpers/shards";
import { admin, device, member, superAdmin } from "../helpers/tokens";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const verify = (id: string) => `/api/v1/skills/access/equipment/${id}/verify`;

describe("badges", () => {
  describe("POST /badges", () => {
    it("normalises the UID, stores only its SHA-256, and shows the last 4 hex digits", async () => {
      const res = await callJson<BadgeBody>("POST", "/api/v1/badges", {
        token: await admin(),
        body: { badge_uid: "04:a2:3b:4c:5d:6e:7f", user_id: "badge-user-1", makerspace_id: "ms-1" },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^badge_/),
        user_id: "badge-user-1",
        makerspace_id: "ms-1",
        uid_last4: "6E7F",
        created_at: expect.stringMatching(ISO_MS),
      });
      const row = await (await shardDb("ms-1"))
        .prepare("select * from badges where id = ?")
        .bind(res.body.id)
        .first<Record<string, string>>();
      expect(row?.uid_sha256).toBe(await sha256Hex("04A23B4C5D6E7F"));
      expect(JSON.stringify(row).toUpperCase()).not.toContain("04A23B4C5D6E7F");
      const events = await auditEvents((e) => e.action === "badge_registered" && e.metadata.badge_id === res.body.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ user_id: "badge-user-1", performed_by: "admin-1" });
      expect(JSON.stringify(events[0]).toUpperCase()).not.toContain("04A23B4C5D6E7F");
      expect(JSON.stringify(events[0]).toUpperCase()).not.toContain("04:A2");
    });

    it("treats every notation of one UID as the same card (409 badge_conflict)", async () => {
      await registerBadge("a1b2c3d4", "badge-user-2");
      for (const uid of ["A1:B2:C3:D4", "a1-b2-c3-d4", "A1 B2 C3 D4", " a1b2c3d4 "]) {
        const res = await callJson("POST", "/api/v1/badges", {
          token: await admin(),
          body: { badge_uid: uid, user_id: "someone-else", makerspace_id: "ms-1" },
        });
        expectError(res, 409, "badge_conflict");
      }
      // The same card may be registered in another makerspace.
      const other = await registerBadge("a1b2c3d4", "badge-user-2", "ms-2");
      expect(other.makerspace_id).toBe("ms-2");
    });

    it("rejects UIDs that are not hexadecimal (422) and guards role and makerspace", async () => {
      for (const uid of ["04:zz:11", "12", "", "0x1234", "12_34"]) {
        const res = await callJson("POST", "/api/v1/badges", {
          token: await admin(),
          body: { badge_uid: uid, user_id: "u", makerspace_id: "ms-1" },
        });
        expectValidation(res, ["badge_uid"]);
      }
      const body = { badge_uid: randomUid(), user_id: "u", makerspace_id: "ms-1" };
      expectError(await callJson("POST", "/api/v1/badges", { token: await member(), body }), 403, "forbidden");
      expectError(await callJson("POST", "/api/v1/badges", { token: await device(), body }), 403, "forbidden");
      expectError(await callJson("POST", "/api/v1/badges", { token: await admin("ms-2"), body }), 403, "forbidden");
    });
  });

  describe("GET /badges and DELETE /badges/{id}", () => {
    it("lists a member's badges in the caller's makerspace", async () => {
      const a = await registerBadge(randomUid(), "badge-lister");
      const b = await registerBadge(randomUid(), "badge-lister");
      await registerBadge(randomUid(), "badge-lister", "ms-2");
      const res = await callJson<BadgeBody[]>("GET", "/api/v1/badges?user_id=badge-lister", { token: await admin() });
      expect(res.status).toBe(200);
      expect(res.body.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
      expect(res.body[0]).toEqual(expect.objectContaining({ user_id: "badge-lister", makerspace_id: "ms-1" }));
      const root = await callJson<BadgeBody[]>("GET", "/api/v1/badges?user_id=badge-lister", {
        token: await superAdmin(),
      });
      expect(root.body).toHaveLength(3);
      expectError(
        await callJson("GET", "/api/v1/badges?makerspace_id=ms-2", { token: await admin() }),
        403,
        "forbidden",
      );
      expectError(await callJson("GET", "/api/v1/badges", { token: await member() }), 403, "forbidden");
    });

    it("deletes a badge (204), then 404; another makerspace's is 404", async () => {
      const b = await registerBadge(randomUid(), "badge-deleter");
      expectError(
        await callJson("DELETE", `/api/v1/badges/${b.id}`, { token: await admin("ms-2") }),
        404,
        "badge_not_found",
      );
      const res = await callJson("DELETE", `/api/v1/badges/${b.id}`, { token: await admin() });
      expect(res.status).toBe(204);
      expect(res.body).toBeNull();
      expectError(await callJson("DELETE", `/api/v1/badges/${b.id}`, { token: await admin() }), 404, "badge_not_found");
      const events = await auditEvents((e) => e.action === "badge_removed" && e.metadata.badge_id === b.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ user_id: "badge-deleter", makerspace_id: "ms-1" });
    });
  });

  describe("POST /badges/resolve", () => {
    it("answers the card's member to admins and kiosk devices only", async () => {
      const uid = randomUid();
      await registerBadge(uid, "resolved-user");
      const body = { badge_uid: uid.toUpperCase().replaceAll(":", "-") };
      const asAdmin = await callJson("POST", "/api/v1/badges/resolve", { token: await admin(), body });
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body).toEqual({ user_id: "resolved-user" });

      const kiosk = await registerDevice({ kind: "kiosk" });
      const asKiosk = await callJson("POST", "/api/v1/badges/resolve", { token: kiosk.token, body });
      expect(asKiosk.body).toEqual({ user_id: "resolved-user" });
      const adhocKiosk = await callJson("POST", "/api/v1/badges/resolve", {
        token: await device("kiosk-adhoc", "ms-1", "kiosk"),
        body,
      });
      expect(adhocKiosk.status).toBe(200);

      const door = await registerDevice({ kind: "door" });
      expectError(await callJson("POST", "/api/v1/badges/resolve", { token: door.token, body }), 403, "forbidden");
      expectError(await callJson("POST", "/api/v1/badges/resolve", { token: await member(), body }), 403, "forbidden");

      // Another makerspace's staff do not see the card.
      expectError(
        await callJson("POST", "/api/v1/badges/resolve", { token: await admin("ms-2"), body }),
        404,
        "badge_not_found",
      );
      const root = await callJson("POST", "/api/v1/badges/resolve", {
        token: await superAdmin(),
        body: { ...body, makerspace_id: "ms-1" },
      });
      expect(root.body).toEqual({ user_id: "resolved-user" });
      expectValidation(await callJson("POST", "/api/v1/badges/resolve", { token: await superAdmin(), body }), [
        "makerspace_id",
      ]);
    });

    it("is 404 badge_not_found for an unknown card and 422 for a malformed one", async () => {
      expectError(
        await callJson("POST", "/api/v1/badges/resolve", { token: await admin(), body: { badge_uid: randomUid() } }),
        404,
        "badge_not_found",
      );
      expectValidation(
        await callJson("POST", "/api/v1/badges/resolve", { token: await admin(), body: { badge_uid: "xyz" } }),
        ["badge_uid"],
      );
    });
  });

  describe("verify by badge", () => {
    let laser: EquipmentFixture;
    let skillName: string;
    const holderUid = randomUid();
    const missingUid = randomUid();

    beforeAll(async () => {
      laser = await makeEquipment({ name: "Badge Laser" });
      const skill = await makeSkill({ equipment_ids: [laser.id] });
      skillName = skill.name;
      await seedCertification({ user_id: "badge-holder", skill_id: skill.id });
      await registerBadge(holderUid, "badge-holder");
      await registerBadge(missingUid, "badge-missing");
    });

    it("resolves a known card to its member and allows them (audited with the badge id, not the UID)", async () => {
      const spy = queueSpy();
      const { token: t } = await registerDevice({ equipment_ids: [laser.id] });
      const res = await callJson("POST", verify(laser.id), {
        token: t,
        body: { badge_uid: holderUid.replaceAll(":", "") },
        env: spy.env,
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        equipment_id: laser.id,
        equipment_name: "Badge Laser",
        user_id: "badge-holder",
        can_access: true,
        user_skills: [skillName],
        missing_skills: [],
        reason: "All required skills certified",
      });
      expect(spy.sent).toHaveLength(1);
      expect(spy.sent[0]).toMatchObject({
        action: "access_granted",
        user_id: "badge-holder",
        metadata: { equipment_id: laser.id, via: "badge", badge_id: expect.stringMatching(/^badge_/) },
      });
      expect(JSON.stringify(spy.sent[0]).toUpperCase()).not.toContain(holderUid.replaceAll(":", "").toUpperCase());
    });

    it("denies a known card whose member lacks the skills (403 insufficient_skills)", async () => {
      const res = await callJson("POST", verify(laser.id), { token: await device(), body: { badge_uid: missingUid } });
      expectError(res, 403, "insufficient_skills", {
        missing_skills: [skillName],
        reason: `Missing required skills: ${skillName}`,
        denial: "missing_skills",
      });
    });

    it("denies and audits an unknown card", async () => {
      const spy = queueSpy();
      const res = await callJson("POST", verify(laser.id), {
        token: await device(),
        body: { badge_uid: "DE:AD:BE:EF" },
        env: spy.env,
      });
      expectError(res, 403, "insufficient_skills", {
        missing_skills: [],
        reason: "Unknown badge",
        denial: "unknown_badge",
      });
      expect((res.body as { detail: string }).detail).toBe("Unknown badge");
      expect(spy.sent).toHaveLength(1);
      expect(spy.sent[0]).toMatchObject({
        action: "access_denied",
        user_id: null,
        makerspace_id: "ms-1",
        performed_by: "device-1",
        reason: "Unknown badge",
        metadata: { equipment_id: laser.id, via: "badge", missing_skills: [], denial: "unknown_badge" },
      });
      expect(JSON.stringify(spy.sent[0])).not.toContain("DEADBEEF");
    });

    it("denies an unknown card at equipment in maintenance or retired as equipment_unavailable", async () => {
      for (const [status, reason] of [
        ["maintenance", "Equipment is under maintenance"],
        ["retired", "Equipment is retired"],
      ] as const) {
        const closed = await makeEquipment({ name: `Badge Mill ${status}`, status });
        await makeSkill({ equipment_ids: [closed.id] });
        const spy = queueSpy();
        const unknown = await callJson("POST", verify(closed.id), {
          token: await device(),
          body: { badge_uid: randomUid() },
          env: spy.env,
        });
        expectError(unknown, 403, "insufficient_skills", {
          missing_skills: [],
          reason,
          denial: "equipment_unavailable",
        });
        expect(spy.sent).toEqual([
          expect.objectContaining({
            action: "access_denied",
            user_id: null,
            reason,
            metadata: expect.objectContaining({ denial: "equipment_unavailable", via: "badge" }),
          }),
        ]);
        // A known card there is closed out the same way.
        const known = await callJson("POST", verify(closed.id), {
          token: await device(),
          body: { badge_uid: holderUid },
        });
        expect(known.body).toMatchObject({ reason, denial: "equipment_unavailable" });
      }
    });

    it("treats a deleted card as unknown at once, and a card of another makerspace as unknown", async () => {
      const uid = randomUid();
      const b = await registerBadge(uid, "badge-holder");
      expect(
        (await callJson("POST", verify(laser.id), { token: await device(), body: { badge_uid: uid } })).status,
      ).toBe(200);
      await callJson("DELETE", `/api/v1/badges/${b.id}`, { token: await admin() });
      const res = await callJson("POST", verify(laser.id), { token: await device(), body: { badge_uid: uid } });
      expectError(res, 403, "insufficient_skills", {
        missing_skills: [],
        reason: "Unknown badge",
        denial: "unknown_badge",
      });
      const foreign = randomUid();
      await registerBadge(foreign, "badge-holder", "ms-2");
      expectError(
        await callJson("POST", verify(laser.id), { token: await device(), body: { badge_uid: foreign } }),
        403,
        "insufficient_skills",
        { missing_skills: [], reason: "Unknown badge", denial: "unknown_badge" },
      );
    });

    it("takes exactly one of user_id and badge_uid", async () => {
      const both = await callJson("POST", verify(laser.id), {
        token: await device(),
        body: { user_id: "badge-holder", badge_uid: holderUid },
      });
      expectValidation(both, ["badge_uid"]);
      expectValidation(await callJson("POST", verify(laser.id), { token: await device(), body: {} }), ["user_id"]);
      expectValidation(
        await callJson("POST", verify(laser.id), { token: await device(), body: { badge_uid: "nothex" } }),
        ["badge_uid"],
      );
      expectError(
        await callJson("POST", verify("nope-eq"), { token: await device(), body: { badge_uid: holderUid } }),
        404,
        "equipment_not_found",
      );
    });
  });
});
