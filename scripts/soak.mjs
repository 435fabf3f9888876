// npm run soak — SOAK_SECONDS (default 30) of concurrent grants, renewals, revocations, request
// creations and reviews, verifies and cached checks from many simulated users against a real
// `wrangler dev` on 127.0.0.1 (fresh local state). Then checks, over the API only:
//   - zero 5xx (and zero transport errors);
//   - no user with two certification rows for one skill;
//   - every change present exactly once in the audit log (sent vs written, per action, after the
//     queue drains; request events also per request id);
//   - every strong access decision consistent with the certifications read back.
// Prints the counts and exits non-zero on any violation. Not part of CI.
import { createServer } from "node:net";
import { api, BUDGETS_OFF_ARGS, mintToken, pool, prng, registerDevice, startServer } from "./lib/client.mjs";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 24);
const USERS = Number(process.env.SOAK_USERS ?? 40);
const DRAIN_MS = Number(process.env.SOAK_DRAIN_SECONDS ?? 30) * 1000;
const MS = "ms-soak";
const rand = prng(Number(process.env.SOAK_SEED ?? 42));
const pick = (list) => list[Math.floor(rand() * list.length)];

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Per operation and status: how many responses. */
const responses = new Map();
/** Audit events the responses promise, by action. */
const sent = new Map();
const requestIds = { created: new Set(), approved: new Set(), rejected: new Set() };
let transportErrors = 0;
const bump = (map, key, n = 1) => map.set(key, (map.get(key) ?? 0) + n);

async function timed(op, fn) {
  try {
    const res = await fn();
    const type = res.status >= 400 && res.body?.error_type ? ` ${res.body.error_type}` : "";
    bump(responses, `${op} ${res.status}${type}`);
    return res;
  } catch {
    transportErrors += 1;
    bump(responses, `${op} transport-error`);
    return { status: 0, body: null };
  }
}

async function setup(admin) {
  const skills = [];
  for (let i = 0; i < 6; i++) {
    const body = { name: `Soak Skill ${i}`, category: "Soak", level: "beginner", makerspace_id: MS };
    // Skill 5 needs skill 0, so grants and approvals also meet prerequisites_not_met.
    if (i === 5) body.prerequisite_ids = [skills[0]];
    const res = await admin("POST", "/api/v1/skills/", body);
    if (res.status !== 201) throw new Error(`setup skill: ${res.status} ${JSON.stringify(res.body)}`);
    skills.push(res.body.id);
    bump(sent, "skill_created");
  }
  const equipment = [];
  for (let i = 0; i < 7; i++) {
    const res = await admin("POST", "/api/v1/equipment", {
      id: `eq-soak-${i}`,
      name: `Soak Machine ${i}`,
      makerspace_id: MS,
    });
    if (res.status !== 201) throw new Error(`setup equipment: ${res.status} ${JSON.stringify(res.body)}`);
    equipment.push(res.body.id);
    bump(sent, "equipment_created");
  }
  // Link skills to equipment (eq-soak-6 stays open: no skills).
  const links = [[0], [1], [2, 3], [4], [5], [0, 4]];
  for (let s = 0; s < skills.length; s++) {
    const equipment_ids = links.flatMap((l, e) => (l.includes(s) ? [`eq-soak-${e}`] : []));
    const res = await admin("PUT", `/api/v1/skills/${skills[s]}`, { equipment_ids });
    if (res.status !== 200) throw new Error(`setup link: ${res.status} ${JSON.stringify(res.body)}`);
    bump(sent, "skill_updated");
  }
  return { skills, equipment };
}

function workload({ admin, door, members }, { skills, equipment }, users, userSkillIds) {
  const ops = [
    [
      22,
      "grant",
      async () => {
        const user = pick(users);
        const skill = pick(skills);
        const res = await timed("grant", () =>
          admin("POST", "/api/v1/skills/user-skills", { user_id: user, skill_id: skill }),
        );
        if (res.status === 201) bump(sent, "skill_granted");
        if (res.status === 200) bump(sent, "skill_renewed");
        if (res.status === 200 || res.status === 201) userSkillIds.set(`${user}|${skill}`, res.body.id);
      },
    ],
    [
      12,
      "revoke",
      async () => {
        const ids = [...userSkillIds.values()];
        if (ids.length === 0) return;
        const res = await timed("revoke", () =>
          admin("POST", `/api/v1/skills/user-skills/${pick(ids)}/revoke?reason=soak`),
        );
        if (res.status === 200) bump(sent, "skill_revoked");
      },
    ],
    [
      14,
      "request",
      async () => {
        const user = pick(users);
        const res = await timed("request", () =>
          members[user]("POST", "/api/v1/skills/requests", { skill_id: pick(skills), reason: "soak" }),
        );
        if (res.status === 201) {
          bump(sent, "request_created");
          requestIds.created.add(res.body.id);
        }
      },
    ],
    [
      12,
      "review",
      async () => {
        const list = await timed("list pending", () => admin("GET", "/api/v1/skills/requests?status=pending&limit=50"));
        if (list.status !== 200 || list.body.length === 0) return;
        const req = pick(list.body);
        const status = rand() < 0.7 ? "approved" : "rejected";
        const res = await timed(`review ${status}`, () =>
          admin("PUT", `/api/v1/skills/requests/${req.id}`, { status }),
        );
        if (res.status !== 200) return;
        if (status === "approved") {
          bump(sent, "request_approved");
          // An approval also grants (or renews) the certification: one more event.
          bump(sent, "skill_granted|skill_renewed (approval)");
          requestIds.approved.add(req.id);
        } else {
          bump(sent, "request_rejected");
          requestIds.rejected.add(req.id);
        }
      },
    ],
    [
      30,
      "verify",
      async () => {
        const res = await timed("verify", () =>
          door("POST", `/api/v1/skills/access/equipment/${pick(equipment)}/verify`, { user_id: pick(users) }),
        );
        if (res.status === 200) bump(sent, "access_granted");
        if (res.status === 403) bump(sent, "access_denied");
      },
    ],
    [
      10,
      "cached check",
      async () => {
        const user = pick(users);
        await timed("cached check", () => members[user]("GET", `/api/v1/skills/access/equipment/${pick(equipment)}`));
      },
    ],
  ];
  const total = ops.reduce((n, [w]) => n + w, 0);
  return () => {
    let r = rand() * total;
    for (const [w, , fn] of ops) {
      r -= w;
      if (r < 0) return fn();
    }
    return ops[0][2]();
  };
}

/** Every audit row of the makerspace, counted by action (approval-driven grants counted apart). */
async function auditCounts(admin) {
  const counts = new Map();
  const perRequest = new Map();
  let cursor = null;
  do {
    const res = await admin("GET", `/api/v1/skills/audit-logs?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    if (res.status !== 200) throw new Error(`audit-logs: ${res.status}`);
    for (const item of res.body.items) {
      const viaApproval =
        (item.action === "skill_granted" || item.action === "skill_renewed") && item.metadata?.request_id;
      bump(counts, viaApproval ? "skill_granted|skill_renewed (approval)" : item.action);
      if (item.action.startsWith("request_")) bump(perRequest, `${item.action} ${item.metadata?.request_id}`);
    }
    cursor = res.body.next_cursor;
  } while (cursor);
  return { counts, perRequest };
}

function expectedAccess(required, held, now) {
  return required.every((id) =>
    held.some((r) => r.skill_id === id && r.status === "certified" && (!r.expires_at || r.expires_at > now)),
  );
}

const violations = [];
let server;
try {
  // One admin token and one door make most of the load, far past a real caller's minute: budgets off.
  server = await startServer({ script: "scripts/dev.mjs", port: await freePort(), args: BUDGETS_OFF_ARGS });
  const admin = api(server.url, await mintToken({ role: "makerspace_admin", sub: "soak-admin", makerspace: MS }));
  const door = api(server.url, await registerDevice(server.url, { name: "Soak door", makerspace: MS }));
  bump(sent, "device_registered");
  const users = Array.from({ length: USERS }, (_, i) => `soak-user-${i}`);
  const members = {};
  for (const u of users) members[u] = api(server.url, await mintToken({ role: "member", sub: u, makerspace: MS }));
  const world = await setup(admin);
  const userSkillIds = new Map();
  const next = workload({ admin, door, members }, world, users, userSkillIds);

  console.log(`soak: ${SECONDS} s, ${CONCURRENCY} concurrent clients, ${USERS} users, ${server.url}`);
  const deadline = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await pool(Array.from({ length: CONCURRENCY }), CONCURRENCY, async () => {
    while (Date.now() < deadline) await next();
  });
  const elapsed = (Date.now() - started) / 1000;

  // Audit: wait for the queue to drain (sent vs written), up to DRAIN_MS.
  const drainStart = Date.now();
  let audit;
  const same = (a) =>
    [...new Set([...sent.keys(), ...a.counts.keys()])].every((k) => (sent.get(k) ?? 0) === (a.counts.get(k) ?? 0));
  do {
    audit = await auditCounts(admin);
    if (same(audit)) break;
    await new Promise((r) => setTimeout(r, 1000));
  } while (Date.now() - drainStart < DRAIN_MS);
  const drainMs = Date.now() - drainStart;

  // Duplicates and consistency, read back through the API.
  const reqs = (await admin("GET", "/api/v1/skills/equipment-requirements")).body;
  const now = new Date().toISOString();
  let duplicates = 0;
  let checked = 0;
  let inconsistent = 0;
  let cachedDisagree = 0;
  await pool(users, 8, async (user) => {
    const rows = (await admin("GET", `/api/v1/skills/user-skills?user_id=${user}&limit=200`)).body;
    const perSkill = new Map();
    for (const r of rows) bump(perSkill, r.skill_id);
    duplicates += [...perSkill.values()].filter((n) => n > 1).length;
    for (const eq of reqs) {
      const want = expectedAccess(
        eq.required_skills.map((s) => s.skill_id),
        rows,
        now,
      );
      const strong = await admin(
        "GET",
        `/api/v1/skills/access/equipment/${eq.equipment_id}?user_id=${user}&consistency=strong`,
      );
      const cached = await admin("GET", `/api/v1/skills/access/equipment/${eq.equipment_id}?user_id=${user}`);
      checked += 1;
      if (strong.status !== 200 || strong.body.can_access !== want) inconsistent += 1;
      if (cached.status !== 200 || cached.body.can_access !== want) cachedDisagree += 1;
    }
  });

  const total = [...responses.values()].reduce((a, b) => a + b, 0);
  const fiveXx = [...responses].filter(([k]) => /\s5\d\d\b/.test(k)).reduce((a, [, n]) => a + n, 0);
  console.log(`\n${total} requests in ${elapsed.toFixed(1)} s (${(total / elapsed).toFixed(0)} req/s)\n`);
  console.log("responses (operation status → count)");
  for (const [k, n] of [...responses].sort()) console.log(`  ${k.padEnd(44)} ${n}`);
  console.log(`\naudit events (action: sent by the API → written to the log), drained after ${drainMs} ms`);
  for (const k of [...new Set([...sent.keys(), ...audit.counts.keys()])].sort()) {
    const s = sent.get(k) ?? 0;
    const w = audit.counts.get(k) ?? 0;
    console.log(`  ${k.padEnd(40)} ${String(s).padStart(6)} → ${String(w).padStart(6)}${s === w ? "" : "   MISMATCH"}`);
  }
  const dupRequestEvents = [...audit.perRequest.values()].filter((n) => n > 1).length;
  const missingRequestEvents =
    [...requestIds.created].filter((id) => !audit.perRequest.has(`request_created ${id}`)).length +
    [...requestIds.approved].filter((id) => !audit.perRequest.has(`request_approved ${id}`)).length +
    [...requestIds.rejected].filter((id) => !audit.perRequest.has(`request_rejected ${id}`)).length;
  console.log(`\nrequest events: ${dupRequestEvents} duplicated, ${missingRequestEvents} missing (per request id)`);
  console.log(`certification rows: ${duplicates} (user, skill) pairs with more than one row`);
  console.log(
    `access decisions: ${checked} user × equipment pairs, ${inconsistent} strong checks inconsistent, ${cachedDisagree} cached checks disagreeing (informational: cached may lag, docs/API.md "Consistency")`,
  );

  if (fiveXx > 0) violations.push(`${fiveXx} responses with 5xx`);
  if (transportErrors > 0) violations.push(`${transportErrors} transport errors`);
  if (!same(audit)) violations.push("audit log does not match the changes sent");
  if (dupRequestEvents + missingRequestEvents > 0) violations.push("request events not exactly once");
  if (duplicates > 0) violations.push(`${duplicates} duplicate certification rows`);
  if (inconsistent > 0) violations.push(`${inconsistent} inconsistent strong access decisions`);
} catch (err) {
  violations.push(String(err?.stack ?? err));
} finally {
  await server?.stop();
}
console.log(violations.length === 0 ? "\nsoak: OK, no violations" : `\nsoak: FAILED\n  ${violations.join("\n  ")}`);
process.exit(violations.length === 0 ? 0 : 1);
