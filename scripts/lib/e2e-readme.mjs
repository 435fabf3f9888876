// The README's curl walkthrough, run as printed: the bash block under "Trying it with curl" is
// taken from README.md and run by bash against the real server, with only its first line
// (`B=http://127.0.0.1:8787`) pointed at the server's port. Every curl it runs is recorded (a
// shell function in front of the real curl that passes the body through untouched), and each
// comment of the walkthrough is then checked against what the server answered
// (scripts/lib/recording-curl.sh).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, mintToken } from "./client.mjs";

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The contract's error body: exactly these fields. */
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

const PRINTED_BASE = "B=http://127.0.0.1:8787";

/** The first ```bash block after "## Trying it with curl" in README.md. */
export function walkthroughScript(readme = readFileSync("README.md", "utf8")) {
  const section = readme.split(/^## Trying it with curl$/m)[1];
  const block = section && /^```bash\n([\s\S]*?)^```$/m.exec(section);
  if (!block) throw new Error('README.md has no ```bash block under "## Trying it with curl"');
  return block[1];
}

/** Runs the walkthrough against `url` with bash; resolves to the recorded curl calls, in order. */
export async function runWalkthrough(url, timeoutMs = 120_000) {
  const script = walkthroughScript();
  assert.equal(script.split("\n").filter((l) => l === PRINTED_BASE).length, 1, `the block sets ${PRINTED_BASE}`);
  const log = join(mkdtempSync(join(tmpdir(), "makrcave-walkthrough-")), "curl.log");
  const prelude = "source scripts/lib/recording-curl.sh\n";
  const child = spawn("bash", ["-c", prelude + script.replace(PRINTED_BASE, `B=${url}`)], {
    env: { ...process.env, E2E_CURL_LOG: log },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  child.stderr.on("data", (d) => {
    output += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  const decode = (b64) => Buffer.from(b64 ?? "", "base64").toString("utf8");
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    // no curl ran
  }
  const calls = text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [ts, status, args, body] = line.split(" ");
      const raw = decode(body);
      let json;
      try {
        json = JSON.parse(raw);
      } catch {
        json = raw;
      }
      const argv = decode(args);
      return {
        at: Number(ts),
        status: Number(status),
        args: argv,
        method: /-X (\w+)/.exec(argv)?.[1] ?? "GET",
        body: json,
      };
    });
  if (code !== 0)
    throw new Error(`the walkthrough exited with ${code} after ${calls.length} calls:\n${output.slice(-2000)}`);
  return calls;
}

/** Returns [name, fn] pairs run in order; `state` carries ids between steps (and to the design cases). */
export function readmeCases({ admin }, state, url) {
  let calls = [];
  /** The recorded calls of one method whose URL contains `path`. */
  const find = (method, path) => calls.filter((c) => c.method === method && c.args.includes(path));
  const one = (method, path) => {
    const found = find(method, path);
    assert.equal(found.length, 1, `${method} ${path}: ${found.length} calls`);
    return found[0];
  };
  return [
    [
      "README: the curl walkthrough runs to its end exactly as printed (bash, real curl)",
      async () => {
        const started = Date.now();
        calls = await runWalkthrough(url);
        state.walkthroughMs = Date.now() - started;
        assert.ok(calls.length >= 16, `${calls.length} curl calls`);
        const unexpected = calls.filter((c) => c.status >= 500);
        assert.deepEqual(unexpected, [], "no 5xx anywhere in the walkthrough");
      },
    ],
    [
      "README: equipment registered with its own id (a reused id is 409, a missing one is generated)",
      async () => {
        const created = one("POST", "/api/v1/equipment");
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.deepEqual(created.body, {
          id: "eq-laser-001",
          name: "Epilog Helix Laser",
          makerspace_id: "ms-1",
          category: "Laser",
          location: "Room B",
          status: "available",
          required_skill_ids: [],
          created_at: created.body.created_at,
          updated_at: created.body.updated_at,
        });
        assert.match(created.body.created_at, ISO_MS);
        const again = { id: "eq-laser-001", name: "Epilog Helix Laser", makerspace_id: "ms-1" };
        assertError(await admin("POST", "/api/v1/equipment", again), 409, "equipment_conflict");
        // Another makerspace, so the design cases' inventory of ms-1 is unchanged.
        const other = api(url, await mintToken({ role: "makerspace_admin", sub: "admin-9", makerspace: "ms-e2e-ids" }));
        const generated = assertStatus(
          await other("POST", "/api/v1/equipment", { name: "Band Saw", makerspace_id: "ms-e2e-ids" }),
          201,
        );
        assert.match(generated.id, /\S/);
      },
    ],
    [
      "README: Laser Safety Certification unlocks the laser; Laser Cutting requires it; the search finds it",
      async () => {
        const [safety, cutting] = find("POST", "/api/v1/skills/ ").map((c) => assertStatus(c, 201));
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
            validity: { mode: "duration", days: 365 },
            created_at: undefined,
            updated_at: undefined,
          },
        );
        assert.equal(cutting.name, "Laser Cutting");
        assert.deepEqual(cutting.prerequisite_ids, [safety.id]);
        state.safety = safety.id;
        state.cutting = cutting.id;
        const search = assertStatus(one("GET", "/api/v1/skills/?category=Safety&q=laser&limit=10"), 200);
        assert.deepEqual(
          search.map((s) => s.name),
          ["Laser Safety Certification"],
        );
      },
    ],
    [
      "README: 'Not yet': the check for user-123 is 200 with can_access false and the missing skill",
      async () => {
        const check = one("GET", "/access/equipment/eq-laser-001?user_id=user-123");
        assert.deepEqual(assertStatus(check, 200), {
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
      "README: the member asks for training, an admin approves (which grants the skill)",
      async () => {
        const req = assertStatus(one("POST", "/api/v1/skills/requests"), 201);
        assert.equal(req.status, "pending");
        assert.equal(req.user_id, "user-123");
        assert.equal(req.skill_name, "Laser Safety Certification");
        const approved = assertStatus(one("PUT", `/api/v1/skills/requests/${req.id}`), 200);
        assert.equal(approved.status, "approved");
        assert.equal(approved.reviewed_by, "admin-1");
        assert.match(approved.reviewed_at, ISO_MS);
      },
    ],
    [
      "README: the door's verify is 200 now, and it is audited",
      async () => {
        const verify = one("POST", "/verify");
        assert.deepEqual(assertStatus(verify, 200), {
          equipment_id: "eq-laser-001",
          equipment_name: "Epilog Helix Laser",
          user_id: "user-123",
          can_access: true,
          user_skills: ["Laser Safety Certification"],
          missing_skills: [],
          reason: "All required skills certified",
        });
        await eventually(async () => {
          const page = assertStatus(
            await admin("GET", "/api/v1/skills/audit-logs?user_id=user-123&action=access_granted"),
            200,
          );
          return page.items.some((i) => i.performed_by === "door-1" && i.metadata.equipment_id === "eq-laser-001");
        });
      },
    ],
    [
      "README: everything the member may use, with a summary; what each machine requires",
      async () => {
        const bulk = one("GET", "/api/v1/skills/access/equipment ");
        assert.deepEqual(assertStatus(bulk, 200), {
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
        assert.deepEqual(assertStatus(one("GET", "/api/v1/skills/equipment-requirements"), 200), [
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
      "README: certifications listed (effective status), granted directly, revoked with a reason",
      async () => {
        const list = assertStatus(one("GET", "/api/v1/skills/user-skills?user_id=user-123"), 200);
        assert.equal(list.length, 1);
        assert.equal(list[0].status, "certified");
        assert.equal(list[0].quiz_score, "95%");
        const grant = one("POST", "/api/v1/skills/user-skills ");
        const granted = assertStatus(grant, 201);
        assert.equal(granted.user_id, "user-456");
        assert.equal(granted.status, "certified");
        assert.equal(granted.certified_by, "admin-1");
        assert.equal(granted.notes, "Passed practical exam");
        assert.equal(granted.quiz_score, "95%");
        const days = (Date.parse(granted.expires_at) - grant.at) / 86_400_000;
        assert.ok(days > 364 && days <= 365, `expires in ${days} days`);
        state.grantedAt = grant.at;
        state.user456Skill = granted.id;
        const revoked = assertStatus(one("POST", `/api/v1/skills/user-skills/${granted.id}/revoke?reason=`), 200);
        assert.equal(revoked.status, "revoked");
      },
    ],
    [
      "README: the audit step waited, and its last read shows the grant and the revocation",
      async () => {
        const reads = find("GET", "/api/v1/skills/audit-logs?user_id=user-456&limit=20");
        assert.ok(reads.length >= 2, "the poll read, then the printed read");
        const last = reads.at(-1);
        state.auditLatencyMs = last.at - state.grantedAt;
        state.auditPolls = reads.length - 1;
        const { items } = assertStatus(last, 200);
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
      "README: errors have one shape (the design's 404 body, exactly)",
      async () => {
        const res = one("GET", "/api/v1/skills/skill_does-not-exist");
        assert.equal(res.status, 404);
        assert.deepEqual(res.body, { detail: "Skill not found", status_code: 404, error_type: "skill_not_found" });
      },
    ],
  ];
}
