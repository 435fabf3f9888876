// Seeds a makerspace for the kiosk browser tests through the HTTP API, as an admin would.
import { api, mintToken } from "./client.mjs";

const DAY = 86_400_000;
const MS = "ms-1";

async function must(res, what, ...ok) {
  const r = await res;
  if (!(ok.length ? ok : [200, 201]).includes(r.status)) {
    throw new Error(`seeding ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r.body;
}

/**
 * Equipment: a laser cutter (two skills), a table saw (one), a CNC router under maintenance, and a
 * 3D printer with no skills (open to all). Each member holds Laser Safety (expiring in 12 days)
 * and Wood Shop Basics (valid for a year), has a pending request for the CNC skill, and a badge.
 * The first member also instructs Wood Shop Basics.
 */
export async function seedKiosk(baseUrl, members) {
  const adminToken = await mintToken({ role: "makerspace_admin", sub: "admin-1", makerspace: MS });
  const call = api(baseUrl, adminToken);
  const equipment = [
    { id: "eq-laser-01", name: "Laser Cutter", status: "available" },
    { id: "eq-saw-01", name: "Table Saw", status: "available" },
    { id: "eq-cnc-01", name: "CNC Router", status: "maintenance" },
    { id: "eq-3dp-01", name: "3D Printer", status: "available" },
  ];
  for (const e of equipment) {
    await must(call("POST", "/api/v1/equipment", { ...e, makerspace_id: MS, location: "Workshop" }), e.id);
  }
  const skill = (name, level, equipment_ids) =>
    must(
      call("POST", "/api/v1/skills/", { name, category: "Workshop", level, makerspace_id: MS, equipment_ids }),
      name,
    );
  const laserSafety = await skill("Laser Safety", "beginner", ["eq-laser-01"]);
  const laserOps = await skill("Laser Cutter Operation", "intermediate", ["eq-laser-01"]);
  const wood = await skill("Wood Shop Basics", "beginner", ["eq-saw-01"]);
  const cnc = await skill("CNC Router Operation", "advanced", ["eq-cnc-01"]);
  const soon = new Date(Date.now() + 12 * DAY).toISOString();
  const later = new Date(Date.now() + 300 * DAY).toISOString();
  for (const m of members) {
    await must(
      call("POST", "/api/v1/skills/user-skills", { user_id: m.userId, skill_id: laserSafety.id, expires_at: soon }),
      "grant laser safety",
    );
    await must(
      call("POST", "/api/v1/skills/user-skills", { user_id: m.userId, skill_id: wood.id, expires_at: later }),
      "grant wood shop",
    );
    await must(call("POST", "/api/v1/skills/requests", { skill_id: cnc.id, user_id: m.userId }), "cnc request");
    await must(
      call("POST", "/api/v1/badges", { badge_uid: m.badgeUid, user_id: m.userId, makerspace_id: MS }),
      "badge",
    );
  }
  await must(call("PUT", `/api/v1/skills/${wood.id}/instructors/${members[0].userId}`), "instructor", 200, 201);
  const kioskToken = await kioskDeviceToken(call);
  return { adminToken, kioskToken, skills: { laserSafety, laserOps, wood, cnc }, equipment };
}

/** A registered kiosk device's token when the devices API exists, else an ad-hoc kiosk token. */
async function kioskDeviceToken(call) {
  const res = await call("POST", "/api/v1/devices", { name: "Front door kiosk", kind: "kiosk", makerspace_id: MS });
  if (res.status === 201) {
    console.log(`kiosk token: registered device ${res.body.device.id}`);
    return res.body.token;
  }
  if (res.status !== 404 && res.status !== 405) throw new Error(`registering the kiosk: ${res.status}`);
  console.log("kiosk token: ad-hoc (no devices API)");
  return mintToken({ role: "device", sub: "kiosk-1", makerspace: MS, claims: { device_kind: "kiosk" } });
}
