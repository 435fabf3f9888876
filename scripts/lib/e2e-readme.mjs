// The README's curl walkthrough, step by step, over HTTP against a real server.
import assert from "node:assert/strict";
import { api, mintToken } from "./client.mjs";

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The contract's error body: exactly these fields (API.md section 2). */
export function assertError(res, status, errorType, extra = {}) {
  const context = JSON.stringify(res.body);
  assert.equal(res.status, status, context);
  assert.equal(typeof res.body?.detail, "string", context);
  assert.deepEqual(res.body, { detail: res.body.detail, status_code: status, error_type: errorType, ...extra });
}

export function assertStatus(res, status) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

/** Polls `check` until it returns something truthy (the audit consumer runs after the queue's batch timeout). */
export async function eventually(check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function clients(url) {
  return {
    admin: api(url, await mintToken({ role: "makerspace_admin", sub: "admin-1", makerspace: "ms-1" })),
    member: api(url, await mintToken({ role: "member", sub: "user-123", makerspace: "ms-1" })),
    door: api(url, await mintToken({ role: "device", sub: "door-1", makerspace: "ms-1" })),
    anonymous: api(url),
  };
}

/** Returns [name, fn] pairs run in order; `state` carries ids between steps. */
export function readmeCases({ admin, member, door }, state) {
  const laserCheck = (user) => `/api/v1/skills/access/equipment/eq-laser-001?user_id=${user}`;
  return [
    [
      "README: register eq-laser-001 (a reused id is 409 equipment_conflict)",
      async () => {
        const body = {
          id: "eq-laser-001",
          name: "Epilog Helix Laser",
          makerspace_id: "ms-1",
          category: "Laser",
          location: "Room B",
        };
        const created = assertStatus(await admin("POST", "/api/v1/equipment", body), 201);
        assert.deepEqual(created, {
          ...body,
          status: "available",
          required_skill_ids: [],
          created_at: created.created_at,
          updated_at: created.updated_at,
        });
        assert.match(created.created_at, ISO_MS);
        assertError(await admin("POST", "/api/v1/equipment", body), 409, "equipment_conflict");
      },
    ],
    [
      "README: Laser Safety Certification unlocks the laser; Laser Cutting requires it",
      async () => {
        const safety = assertStatus(
          await admin("POST", "/api/v1/skills/", {
            name: "Laser Safety Certification",
            category: "Safety",
            level: "beginner",
            makerspace_id: "ms-1",
            equipment_ids: ["eq-laser-001"],
          }),
          201,
        );
        assert.deepEqual(
          { ...safety, id: undefined, created_at: undefined, updated_at: undefined },
          {
            id: undefined,
            name: "Laser Safety Certification",
            category: "Safety",
            level: "beginner",
            description: null,
            status: "active",
            makerspace_id: "ms-1",
            prerequisite_ids: [],
            equipment_ids: ["eq-laser-001"],
            created_at: undefined,
            updated_at: undefined,
          },
        );
        state.safety = safety.id;
        const cutting = assertStatus(
          await admin("POST", "/api/v1/skills/", {
            name: "Laser Cutting",
            category: "Fabrication",
            level: "intermediate",
            makerspace_id: "ms-1",
            prerequisite_ids: [safety.id],
          }),
          201,
        );
        assert.deepEqual(cutting.prerequisite_ids, [safety.id]);
        state.cutting = cutting.id;
        const found = assertStatus(await member("GET", "/api/v1/skills/?category=Safety&q=laser&limit=10"), 200);
        assert.deepEqual(
          found.map((s) => s.name),
          ["Laser Safety Certification"],
        );
      },
    ],
    [
      "README: the door's check for user-123 is 200 with can_access false and the missing skill",
      async () => {
        const res = assertStatus(await door("GET", laserCheck("user-123")), 200);
        assert.deepEqual(res, {
          equipment_id: "eq-laser-001",
          equipment_name: "Epilog Helix Laser",
          user_id: "user-123",
          can_access: false,
          user_skills: [],
          missing_skills: ["Laser Safety Certification"],
          reason: "Missing required skills: Laser Safety Certification",
        });
      },
    ],
    [
      "README: the member requests training, an admin approves (granting the skill)",
      async () => {
        const req = assertStatus(
          await member("POST", "/api/v1/skills/requests", {
            skill_id: state.safety,
            reason: "Need to complete project prototype",
          }),
          201,
        );
        assert.equal(req.status, "pending");
        assert.equal(req.user_id, "user-123");
        assert.equal(req.skill_name, "Laser Safety Certification");
        const approved = assertStatus(
          await admin("PUT", `/api/v1/skills/requests/${req.id}`, {
            status: "approved",
            notes: "Skill demonstration successful",
            quiz_score: "95%",
          }),
          200,
        );
        assert.equal(approved.status, "approved");
        assert.equal(approved.reviewed_by, "admin-1");
        assert.match(approved.reviewed_at, ISO_MS);
      },
    ],
    [
      "README: verify is 200 now; the cached check at this location agrees at once",
      async () => {
        const allowed = {
          equipment_id: "eq-laser-001",
          equipment_name: "Epilog Helix Laser",
          user_id: "user-123",
          can_access: true,
          user_skills: ["Laser Safety Certification"],
          missing_skills: [],
          reason: "All required skills certified",
        };
        const verify = await door("POST", "/api/v1/skills/access/equipment/eq-laser-001/verify", {
          user_id: "user-123",
        });
        assert.deepEqual(assertStatus(verify, 200), allowed);
        assert.deepEqual(assertStatus(await door("GET", laserCheck("user-123")), 200), allowed);
      },
    ],
    [
      "README: bulk access and equipment requirements as the member",
      async () => {
        const bulk = assertStatus(await member("GET", "/api/v1/skills/access/equipment"), 200);
        assert.deepEqual(bulk, {
          user_id: "user-123",
          makerspace_id: "ms-1",
          equipment_access: [
            {
              equipment_id: "eq-laser-001",
              equipment_name: "Epilog Helix Laser",
              can_access: true,
              user_skills: ["Laser Safety Certification"],
              missing_skills: [],
            },
          ],
          summary: { total_equipment: 1, accessible_equipment: 1, access_percentage: 100 },
        });
        const reqs = assertStatus(await member("GET", "/api/v1/skills/equipment-requirements"), 200);
        assert.deepEqual(reqs, [
          {
            equipment_id: "eq-laser-001",
            equipment_name: "Epilog Helix Laser",
            required_skills: [
              {
                skill_id: state.safety,
                skill_name: "Laser Safety Certification",
                skill_level: "beginner",
                required_level: "beginner",
                category: "Safety",
                is_required: true,
              },
            ],
          },
        ]);
      },
    ],
    [
      "README: list, grant directly with quiz_score 95%, revoke with reason=Safety violation",
      async () => {
        const list = assertStatus(await admin("GET", "/api/v1/skills/user-skills?user_id=user-123"), 200);
        assert.equal(list.length, 1);
        assert.equal(list[0].status, "certified");
        assert.equal(list[0].quiz_score, "95%");
        const granted = assertStatus(
          await admin("POST", "/api/v1/skills/user-skills", {
            user_id: "user-456",
            skill_id: state.safety,
            notes: "Passed practical exam",
            quiz_score: "95%",
          }),
          201,
        );
        assert.equal(granted.status, "certified");
        assert.equal(granted.certified_by, "admin-1");
        assert.equal(granted.notes, "Passed practical exam");
        assert.equal(granted.quiz_score, "95%");
        const days = (Date.parse(granted.expires_at) - Date.now()) / 86_400_000;
        assert.ok(days > 364 && days <= 365, `expires in ${days} days`);
        state.grantedAt = Date.now();
        state.user456Skill = granted.id;
        const revoked = assertStatus(
          await admin("POST", `/api/v1/skills/user-skills/${granted.id}/revoke?reason=Safety%20violation`),
          200,
        );
        assert.equal(revoked.status, "revoked");
      },
    ],
    [
      "README: the grant and the revocation reach GET /skills/audit-logs through the real queue consumer",
      async () => {
        const items = await eventually(async () => {
          const page = assertStatus(await admin("GET", "/api/v1/skills/audit-logs?user_id=user-456&limit=20"), 200);
          return page.items.length >= 2 ? page.items : null;
        });
        state.auditLatencyMs = Date.now() - state.grantedAt;
        assert.deepEqual(
          items.map((i) => i.action),
          ["skill_revoked", "skill_granted"],
        );
        const [revoked, granted] = items;
        assert.equal(revoked.reason, "Safety violation");
        assert.equal(granted.performed_by, "admin-1");
        assert.equal(granted.skill_id, state.safety);
        assert.equal(granted.makerspace_id, "ms-1");
        assert.equal(granted.metadata.quiz_score, "95%");
        assert.equal(granted.metadata.user_skill_id, state.user456Skill);
      },
    ],
    [
      "README: an unknown skill is the design's 404 body, exactly",
      async () => {
        const res = await member("GET", "/api/v1/skills/skill_does-not-exist");
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, { detail: "Skill not found", status_code: 404, error_type: "skill_not_found" });
      },
    ],
  ];
}
