// Every example of the design document (docs: /shared/seed design), over HTTP, in makerspace ms-1
// after the README walkthrough (which created eq-laser-001 and "Laser Safety Certification").
import assert from "node:assert/strict";
import { assertError, assertStatus, eventually, ISO_MS } from "./e2e-readme.mjs";

export function designCases({ admin, member }, state) {
  const skill = async (body) =>
    assertStatus(await admin("POST", "/api/v1/skills/", { makerspace_id: "ms-1", ...body }), 201);
  const equipment = async (id, name) =>
    assertStatus(await admin("POST", "/api/v1/equipment", { id, name, makerspace_id: "ms-1" }), 201);

  return [
    [
      "design: create CNC Operation (Machining, advanced, prerequisite and equipment ids)",
      async () => {
        state.safety101 = (await skill({ name: "Shop Safety 101", category: "Safety", level: "beginner" })).id;
        await equipment("eq-cnc-001", "Haas Mini Mill");
        await equipment("eq-cnc-002", "Tormach 1100");
        const cnc = await skill({
          name: "CNC Operation",
          category: "Machining",
          level: "advanced",
          description: "Safe operation of CNC milling machines",
          prerequisite_ids: [state.safety101],
          equipment_ids: ["eq-cnc-001", "eq-cnc-002"],
        });
        assert.match(cnc.id, /\S/);
        assert.match(cnc.created_at, ISO_MS);
        assert.deepEqual(cnc, {
          id: cnc.id,
          name: "CNC Operation",
          category: "Machining",
          level: "advanced",
          description: "Safe operation of CNC milling machines",
          status: "active",
          makerspace_id: "ms-1",
          prerequisite_ids: [state.safety101],
          equipment_ids: ["eq-cnc-001", "eq-cnc-002"],
          validity: { mode: "duration", days: 365 },
          created_at: cnc.created_at,
          updated_at: cnc.updated_at,
        });
        state.cnc = cnc.id;
      },
    ],
    [
      "design: GET /skills/?makerspace_id=ms-1&category=Machining&level=advanced&status=active",
      async () => {
        const res = await member(
          "GET",
          "/api/v1/skills/?makerspace_id=ms-1&category=Machining&level=advanced&status=active",
        );
        assert.deepEqual(
          assertStatus(res, 200).map((s) => s.id),
          [state.cnc],
        );
      },
    ],
    [
      "design: PUT /skills/{id} with description and status",
      async () => {
        const body = { description: "Updated description", status: "active" };
        const updated = assertStatus(await admin("PUT", `/api/v1/skills/${state.cnc}`, body), 200);
        assert.equal(updated.description, "Updated description");
        assert.equal(updated.status, "active");
        assert.ok(updated.updated_at >= updated.created_at);
      },
    ],
    [
      "design: grant CNC to user-123 with quiz_score 95% (409 until the prerequisite is held)",
      async () => {
        const body = {
          user_id: "user-123",
          skill_id: state.cnc,
          status: "certified",
          notes: "Passed practical exam",
          quiz_score: "95%",
        };
        assertError(await admin("POST", "/api/v1/skills/user-skills", body), 409, "prerequisites_not_met", {
          missing_prerequisites: ["Shop Safety 101"],
        });
        assertStatus(
          await admin("POST", "/api/v1/skills/user-skills", { user_id: "user-123", skill_id: state.safety101 }),
          201,
        );
        const granted = assertStatus(await admin("POST", "/api/v1/skills/user-skills", body), 201);
        state.cncGrantedAt = Date.now();
        assert.equal(granted.status, "certified");
        assert.equal(granted.skill_name, "CNC Operation");
        assert.equal(granted.quiz_score, "95%");
        assert.equal(granted.notes, "Passed practical exam");
        state.cncUserSkill = granted.id;
      },
    ],
    [
      "design: the grant appears in GET /skills/audit-logs within a few seconds (real queue consumer)",
      async () => {
        const item = await eventually(async () => {
          const page = assertStatus(
            await admin("GET", "/api/v1/skills/audit-logs?action=skill_granted&user_id=user-123&limit=50"),
            200,
          );
          return page.items.find((i) => i.skill_id === state.cnc);
        }, 15_000);
        state.cncAuditMs = Date.now() - state.cncGrantedAt;
        assert.equal(item.performed_by, "admin-1");
        assert.equal(item.reason, "Passed practical exam");
        assert.equal(item.metadata.quiz_score, "95%");
      },
    ],
    [
      "design: GET /skills/user-skills?user_id=user-123&status=certified",
      async () => {
        const rows = assertStatus(
          await member("GET", "/api/v1/skills/user-skills?user_id=user-123&status=certified"),
          200,
        );
        assert.deepEqual(rows.map((r) => r.skill_name).sort(), [
          "CNC Operation",
          "Laser Safety Certification",
          "Shop Safety 101",
        ]);
        assert.ok(rows.every((r) => r.status === "certified" && r.user_id === "user-123"));
      },
    ],
    [
      "design: revoke with ?reason=Safety violation; effective for a strong check at once; twice is 409",
      async () => {
        const path = `/api/v1/skills/user-skills/${state.cncUserSkill}/revoke?reason=Safety%20violation`;
        assert.equal(assertStatus(await admin("POST", path), 200).status, "revoked");
        const check = assertStatus(
          await admin("GET", "/api/v1/skills/access/equipment/eq-cnc-001?user_id=user-123&consistency=strong"),
          200,
        );
        assert.equal(check.can_access, false);
        assert.deepEqual(check.missing_skills, ["CNC Operation"]);
        assertError(await admin("POST", path), 409, "invalid_state");
      },
    ],
    [
      "design: request Laser Cutting → a second request is 409 request_conflict → approve",
      async () => {
        const body = {
          skill_id: state.cutting,
          reason: "Need to complete project prototype",
          notes: "Available for assessment next week",
        };
        const req = assertStatus(await member("POST", "/api/v1/skills/requests", body), 201);
        assert.deepEqual(
          { status: req.status, reason: req.reason, notes: req.notes, reviewed_by: req.reviewed_by },
          { status: "pending", reason: body.reason, notes: body.notes, reviewed_by: null },
        );
        assertError(await member("POST", "/api/v1/skills/requests", body), 409, "request_conflict", {
          existing_request_id: req.id,
        });
        const approved = assertStatus(
          await admin("PUT", `/api/v1/skills/requests/${req.id}`, {
            status: "approved",
            notes: "Skill demonstration successful",
          }),
          200,
        );
        assert.equal(approved.status, "approved");
        assert.equal(approved.notes, "Skill demonstration successful");
        const held = assertStatus(await member("GET", `/api/v1/skills/user-skills?skill_id=${state.cutting}`), 200);
        assert.deepEqual(
          held.map((r) => [r.user_id, r.status]),
          [["user-123", "certified"]],
        );
      },
    ],
    [
      "design: single access check (eq-laser-001, a user without the skill) has the design's shape",
      async () => {
        const res = assertStatus(
          await admin("GET", "/api/v1/skills/access/equipment/eq-laser-001?user_id=user-999"),
          200,
        );
        assert.deepEqual(res, {
          equipment_id: "eq-laser-001",
          equipment_name: "Epilog Helix Laser",
          user_id: "user-999",
          can_access: false,
          user_skills: [],
          missing_skills: ["Laser Safety Certification"],
          reason: "Missing required skills: Laser Safety Certification",
        });
      },
    ],
    [
      "design: bulk access check for user-123 in ms-1, with the summary",
      async () => {
        await equipment("eq-laser-002", "Trotec Speedy 400");
        for (const name of ["Laser Safety", "Material Handling"]) {
          await skill({ name, category: "Safety", level: "beginner", equipment_ids: ["eq-laser-002"] });
        }
        const res = assertStatus(
          await admin("GET", "/api/v1/skills/access/equipment?user_id=user-123&makerspace_id=ms-1"),
          200,
        );
        const byId = Object.fromEntries(res.equipment_access.map((e) => [e.equipment_id, e]));
        assert.deepEqual(Object.keys(byId).sort(), ["eq-cnc-001", "eq-cnc-002", "eq-laser-001", "eq-laser-002"]);
        assert.deepEqual(byId["eq-laser-001"], {
          equipment_id: "eq-laser-001",
          equipment_name: "Epilog Helix Laser",
          can_access: true,
          user_skills: ["Laser Safety Certification"],
          missing_skills: [],
        });
        assert.deepEqual(byId["eq-laser-002"].missing_skills, ["Laser Safety", "Material Handling"]);
        assert.equal(byId["eq-cnc-001"].can_access, false);
        assert.deepEqual(res.summary, { total_equipment: 4, accessible_equipment: 1, access_percentage: 25 });
        assert.equal(res.user_id, "user-123");
        assert.equal(res.makerspace_id, "ms-1");
      },
    ],
    [
      "design: equipment requirements for ms-1",
      async () => {
        const list = assertStatus(await admin("GET", "/api/v1/skills/equipment-requirements?makerspace_id=ms-1"), 200);
        const cnc = list.find((e) => e.equipment_id === "eq-cnc-001");
        assert.deepEqual(cnc, {
          equipment_id: "eq-cnc-001",
          equipment_name: "Haas Mini Mill",
          required_skills: [
            {
              skill_id: state.cnc,
              skill_name: "CNC Operation",
              skill_level: "advanced",
              required_level: "advanced",
              category: "Machining",
              is_required: true,
            },
          ],
        });
        assert.equal(list.length, 4);
      },
    ],
    [
      "design: insufficient_skills (403) names both missing skills as the design, with reason and denial",
      async () => {
        const res = await admin("POST", "/api/v1/skills/access/equipment/eq-laser-002/verify", { user_id: "user-123" });
        assert.equal(res.status, 403);
        assert.deepEqual(res.body, {
          detail: "Missing required skills: Laser Safety, Material Handling",
          status_code: 403,
          error_type: "insufficient_skills",
          missing_skills: ["Laser Safety", "Material Handling"],
          reason: "Missing required skills: Laser Safety, Material Handling",
          denial: "missing_skills",
        });
      },
    ],
    [
      "authenticated responses are nosniff and no-store; no CORS without ALLOWED_ORIGINS",
      async () => {
        const res = await admin("GET", "/api/v1/skills/", undefined, { origin: "https://evil.example" });
        assert.equal(res.headers.get("x-content-type-options"), "nosniff");
        assert.equal(res.headers.get("cache-control"), "no-store");
        assert.equal(res.headers.get("access-control-allow-origin"), null);
      },
    ],
  ];
}
