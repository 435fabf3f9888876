// The benchmark dataset, loaded through the HTTP API of any server implementing the contract
// (this Worker, or the seed's own stack for a side-by-side run). Deterministic: the same seed gives
// the same makerspace, skills, equipment, members and grants on every server, so their numbers
// compare. The construction (mulberry32, seed 42, the order of draws) is the seed stack's load
// harness's, so a server loaded by either holds the same rows.
import { prng } from "./client.mjs";

export const MAKERSPACE = "ms-bench";
const CATEGORIES = [
  "Safety",
  "Machining",
  "Electronics",
  "Woodworking",
  "Laser",
  "3D Printing",
  "Textiles",
  "Metalwork",
];
const LEVELS = ["beginner", "intermediate", "advanced", "expert"];
const pad = (i, width) => String(i).padStart(width, "0");

/**
 * One makerspace; `skills` skills (those past the first 30% have one prerequisite among them half
 * the time); `equipment` items needing 1–3 skills each; `members` members each granted
 * `grantsPerMember` random skills plus their prerequisites (~18.5 grants each at the defaults).
 */
export function benchDataset({ members = 2000, skills = 100, equipment = 200, grantsPerMember = 15, seed = 42 } = {}) {
  const rand = prng(seed);
  const int = (n) => Math.floor(rand() * n);
  const pick = (n, k) => {
    const chosen = new Set();
    while (chosen.size < Math.min(k, n)) chosen.add(int(n));
    return [...chosen];
  };
  const base = Math.ceil(skills * 0.3);
  const skillDefs = Array.from({ length: skills }, (_, i) => ({
    name: `Bench Skill ${pad(i, 3)}`,
    category: CATEGORIES[int(CATEGORIES.length)],
    level: LEVELS[int(LEVELS.length)],
    prereq: i >= base && rand() < 0.5 ? int(base) : null,
    equipment: [],
  }));
  const equipmentDefs = Array.from({ length: equipment }, (_, i) => {
    const required = pick(skills, 1 + int(3));
    const id = `eq-bench-${pad(i, 3)}`;
    for (const s of required) skillDefs[s].equipment.push(id);
    return {
      id,
      name: `Bench Machine ${pad(i, 3)}`,
      category: CATEGORIES[int(CATEGORIES.length)],
      location: `Bay ${1 + int(12)}`,
      required,
    };
  });
  const memberDefs = Array.from({ length: members }, (_, i) => {
    const held = new Set();
    for (const s of pick(skills, grantsPerMember)) {
      held.add(s);
      if (skillDefs[s].prereq !== null) held.add(skillDefs[s].prereq);
    }
    // Prerequisites (skills without one) first, so each grant's prerequisites are already held.
    const grants = [...held].sort((a, b) => (skillDefs[a].prereq !== null) - (skillDefs[b].prereq !== null) || a - b);
    return { id: `u-bench-${pad(i, 4)}`, grants };
  });
  return { skills: skillDefs, equipment: equipmentDefs, members: memberDefs };
}

/** Runs `worker(item, i)` over items with at most `concurrency` in flight. */
async function pool(items, concurrency, worker) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await worker(items[i], i);
      }
    }),
  );
}

/**
 * Loads the dataset through `call(method, path, body) → { status, body }` with `concurrency`
 * requests in flight. Grants go as the seed stack's harness sends them: `concurrency` members at a
 * time, each member's grants one after the other, prerequisites first — so a member's KV entry
 * changes several times a second. Existing rows (409) are accepted, so loading again is harmless.
 * With `cpu` (a function returning the server's CPU seconds so far), the grants' CPU per grant is
 * measured too. Returns the ids and the grant rate.
 */
export async function loadDataset(call, data, { concurrency = 16, onProgress = () => {}, cpu } = {}) {
  const failures = [];
  const expect = (what, res, ok) => {
    if (ok.includes(res.status)) return true;
    if (failures.length < 5) failures.push(`${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    return false;
  };
  const fail = (phase) => {
    if (failures.length > 0) throw new Error(`loading ${phase} failed:\n  ${failures.join("\n  ")}`);
  };

  let done = 0;
  let started = Date.now();
  await pool(data.equipment, concurrency, async (e) => {
    const res = await call("POST", "/api/v1/equipment", {
      id: e.id,
      name: e.name,
      makerspace_id: MAKERSPACE,
      category: e.category,
      location: e.location,
    });
    expect(e.id, res, [201, 409]);
    onProgress("equipment", ++done, data.equipment.length, started);
  });
  fail("equipment");

  const skillIds = [];
  const createSkill = async (i) => {
    const s = data.skills[i];
    const res = await call("POST", "/api/v1/skills/", {
      name: s.name,
      category: s.category,
      level: s.level,
      description: `Benchmark skill ${i}`,
      makerspace_id: MAKERSPACE,
      prerequisite_ids: s.prereq === null ? [] : [skillIds[s.prereq]],
      equipment_ids: s.equipment,
    });
    if (expect(s.name, res, [201, 409])) skillIds[i] = res.body.id ?? res.body.existing_skill_id;
    onProgress("skills", ++done, data.skills.length, started);
  };
  const indices = [...data.skills.keys()];
  done = 0;
  started = Date.now();
  await pool(
    indices.filter((i) => data.skills[i].prereq === null),
    concurrency,
    createSkill,
  );
  await pool(
    indices.filter((i) => data.skills[i].prereq !== null),
    concurrency,
    createSkill,
  );
  fail("skills");

  const total = data.members.reduce((n, m) => n + m.grants.length, 0);
  done = 0;
  started = Date.now();
  const cpuBefore = cpu?.();
  await pool(data.members, concurrency, async (m) => {
    for (const s of m.grants) {
      const res = await call("POST", "/api/v1/skills/user-skills", {
        user_id: m.id,
        skill_id: skillIds[s],
        status: "certified",
        notes: "bench load",
        quiz_score: "90%",
      });
      expect(`${m.id}/${s}`, res, [200, 201]);
      onProgress("certifications", ++done, total, started);
    }
  });
  fail("certifications");
  const grantSeconds = (Date.now() - started) / 1000;
  const cpuMsPerGrant = cpuBefore === undefined ? null : Number((((cpu() - cpuBefore) * 1000) / total).toFixed(3));
  return {
    skillIds,
    users: data.members.map((m) => m.id),
    equipmentIds: data.equipment.map((e) => e.id),
    /** Every (member, skill id) pair granted: the grant scenario renews random ones. */
    held: data.members.flatMap((m) => m.grants.map((s) => [m.id, skillIds[s]])),
    grants: total,
    grantsPerSecond: Math.round(total / grantSeconds),
    cpuMsPerGrant,
  };
}
