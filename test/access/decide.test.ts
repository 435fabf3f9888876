import { describe, expect, it } from "vitest";
import { type DecisionInput, decideAccess, denialOf } from "../../src/access/decide";
import type { EquipmentStatus } from "../../src/catalogue/equipment.schemas";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const FUTURE = "2026-12-01T00:00:00.000Z";
const PAST = "2026-05-01T00:00:00.000Z";
const laser = { id: "s-laser", name: "Laser Safety" };
const material = { id: "s-mat", name: "Material Handling" };

type Holding = "none-required" | "all-held" | "one-missing" | "one-expired" | "none-held";

function scenario(holding: Holding): Pick<DecisionInput, "requiredSkills" | "certifications"> {
  switch (holding) {
    case "none-required":
      return { requiredSkills: [], certifications: [{ skill_id: "s-other", expires_at: FUTURE }] };
    case "all-held":
      return {
        requiredSkills: [laser, material],
        certifications: [
          { skill_id: laser.id, expires_at: FUTURE },
          { skill_id: material.id, expires_at: null },
        ],
      };
    case "one-missing":
      return { requiredSkills: [laser, material], certifications: [{ skill_id: material.id, expires_at: FUTURE }] };
    case "one-expired":
      return {
        requiredSkills: [laser, material],
        certifications: [
          { skill_id: laser.id, expires_at: PAST },
          { skill_id: material.id, expires_at: FUTURE },
        ],
      };
    case "none-held":
      return { requiredSkills: [material, laser], certifications: [] };
  }
}

const expectedHeld: Record<Holding, { user: string[]; missing: string[] }> = {
  "none-required": { user: [], missing: [] },
  "all-held": { user: ["Laser Safety", "Material Handling"], missing: [] },
  "one-missing": { user: ["Material Handling"], missing: ["Laser Safety"] },
  "one-expired": { user: ["Material Handling"], missing: ["Laser Safety"] },
  "none-held": { user: [], missing: ["Laser Safety", "Material Handling"] },
};

/** The rule written out independently of the implementation, for the full table below. */
function expected(status: EquipmentStatus, holding: Holding, enforcement: boolean, override: boolean) {
  const missing = expectedHeld[holding].missing;
  if (status === "maintenance") return { can: false, reason: "Equipment is under maintenance" };
  if (status === "retired") return { can: false, reason: "Equipment is retired" };
  if (override) return { can: true, reason: "Emergency override is active" };
  if (holding === "none-required") return { can: true, reason: "No skills required" };
  if (missing.length === 0) return { can: true, reason: "All required skills certified" };
  if (!enforcement) return { can: true, reason: `Skill enforcement is disabled; missing: ${missing.join(", ")}` };
  return { can: false, reason: `Missing required skills: ${missing.join(", ")}` };
}

const statuses: EquipmentStatus[] = ["available", "maintenance", "retired"];
const holdings: Holding[] = ["none-required", "all-held", "one-missing", "one-expired", "none-held"];
const table = statuses.flatMap((status) =>
  holdings.flatMap((holding) =>
    [true, false].flatMap((enforcement) =>
      [true, false].map((override) => ({ status, holding, enforcement, override })),
    ),
  ),
);

describe("decideAccess", () => {
  it.each(table)("$status / $holding / enforcement=$enforcement / override=$override", (row) => {
    const d = decideAccess({
      equipmentStatus: row.status,
      ...scenario(row.holding),
      now: NOW,
      enforcement: row.enforcement,
      emergencyOverride: row.override,
    });
    const want = expected(row.status, row.holding, row.enforcement, row.override);
    expect(d).toEqual({
      can_access: want.can,
      user_skills: expectedHeld[row.holding].user,
      missing_skills: expectedHeld[row.holding].missing,
      reason: want.reason,
    });
  });

  it("covers all 60 combinations", () => {
    expect(table).toHaveLength(60);
  });

  it("treats a certification expiring exactly now as expired", () => {
    const d = decideAccess({
      equipmentStatus: "available",
      requiredSkills: [laser],
      certifications: [{ skill_id: laser.id, expires_at: NOW.toISOString() }],
      now: NOW,
      enforcement: true,
      emergencyOverride: false,
    });
    expect(d.can_access).toBe(false);
    expect(d.missing_skills).toEqual(["Laser Safety"]);
  });

  it("matches the design's example reason", () => {
    const d = decideAccess({
      equipmentStatus: "available",
      requiredSkills: [{ id: "s1", name: "Laser Safety Certification" }],
      certifications: [],
      now: NOW,
      enforcement: true,
      emergencyOverride: false,
    });
    expect(d.reason).toBe("Missing required skills: Laser Safety Certification");
  });
});

describe("denialOf (the code a denied verify carries)", () => {
  it.each(table)("$status / $holding / enforcement=$enforcement / override=$override", (row) => {
    const decision = decideAccess({
      equipmentStatus: row.status,
      ...scenario(row.holding),
      now: NOW,
      enforcement: row.enforcement,
      emergencyOverride: row.override,
    });
    const known = denialOf({ equipmentStatus: row.status, badgeKnown: true, canAccess: decision.can_access });
    const unknown = denialOf({ equipmentStatus: row.status, badgeKnown: false, canAccess: decision.can_access });
    if (row.status !== "available") {
      // First in precedence: closed equipment, whoever taps and whatever they hold.
      expect([known, unknown]).toEqual(["equipment_unavailable", "equipment_unavailable"]);
    } else {
      // Then an unknown card (even where the machine would open); then missing skills.
      expect(unknown).toBe("unknown_badge");
      expect(known).toBe(decision.can_access ? null : "missing_skills");
    }
  });

  it("is null exactly when a known member is allowed", () => {
    for (const status of statuses) {
      for (const canAccess of [true, false]) {
        const denial = denialOf({ equipmentStatus: status, badgeKnown: true, canAccess });
        expect(denial === null).toBe(status === "available" && canAccess);
      }
    }
  });
});
