// The README's "Importing certifications from a spreadsheet" block, run by bash as printed against
// the real server (only `B=` and the admin token are set beforehand), with the sample file of
// examples/; then the exports, streamed over HTTP.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mintToken } from "./client.mjs";
import { assertStatus, eventually } from "./e2e-readme.mjs";

/** The first ```bash block after the heading `heading` in README.md. */
export function readmeBlock(heading, readme = readFileSync("README.md", "utf8")) {
  const section = readme.split(new RegExp(`^${heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"))[1];
  const block = section && /^```bash\n([\s\S]*?)^```$/m.exec(section);
  if (!block) throw new Error(`README.md has no \`\`\`bash block under "${heading}"`);
  return block[1];
}

/** Runs the block with bash; each curl's output is one JSON line (or `-o` writes a file). */
function runBlock(url, script, env) {
  const res = spawnSync("bash", ["-euo", "pipefail", "-c", script], {
    env: { ...process.env, B: url, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

export function transferCases({ admin }, state, url) {
  return [
    [
      "import: the README's spreadsheet block, as printed: dry run, import, re-import unchanged, export",
      async () => {
        const script = readmeBlock("### Importing certifications from a spreadsheet");
        const admin1 = await mintToken({ role: "makerspace_admin", sub: "admin-1", makerspace: "ms-1" });
        const started = Date.now();
        const [dry, real, again] = runBlock(url, script, { ADMIN: admin1 });
        state.importMs = Date.now() - started;
        const errors = [
          { row: 6, message: "Prerequisites not met: Laser Safety Certification" },
          { row: 8, column: "certified_at", message: dry?.errors?.[1]?.message },
        ];
        assert.deepEqual(dry, { dry_run: true, created: 5, renewed: 0, unchanged: 0, failed: 2, errors });
        assert.match(errors[1].message, /ISO-8601/);
        assert.deepEqual(real, { ...dry, dry_run: false });
        assert.deepEqual(again, { dry_run: false, created: 0, renewed: 0, unchanged: 5, failed: 2, errors });
        const rows = assertStatus(await admin("GET", "/api/v1/skills/user-skills?user_id=member-004"), 200);
        assert.equal(rows[0].notes, "Evening induction,\nsecond session on the Helix");
        const cutting = assertStatus(await admin("GET", "/api/v1/skills/user-skills?user_id=member-001"), 200).find(
          (r) => r.skill_name === "Laser Cutting",
        );
        assert.equal(cutting.certified_at, "2026-09-15T00:00:00.000Z");
        assert.equal(cutting.expires_at, "2027-09-15T00:00:00.000Z");
      },
    ],
    [
      "export: certifications as CSV and the audit log as NDJSON, streamed",
      async () => {
        const token = await mintToken({ role: "makerspace_admin", sub: "admin-1", makerspace: "ms-1" });
        const csv = await fetch(`${url}/api/v1/skills/user-skills/export?user_id=member-002`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(csv.status, 200);
        assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
        const lines = (await csv.text()).trimEnd().split("\r\n");
        assert.match(lines[0], /^id,user_id,skill_id,skill_name,makerspace_id,status,/);
        assert.equal(lines.length, 3);
        assert.ok(lines.some((l) => l.includes('"Asked about ""vector"" vs ""raster"" engraving"')));

        // The consumer writes the import's events a few seconds after it; oldest first.
        const events = await eventually(async () => {
          const ndjson = await fetch(`${url}/api/v1/skills/audit-logs/export?action=certifications_imported`, {
            headers: { authorization: `Bearer ${token}` },
          });
          assert.equal(ndjson.status, 200);
          assert.equal(ndjson.headers.get("content-type"), "application/x-ndjson; charset=utf-8");
          const lines = (await ndjson.text()).split("\n").filter(Boolean);
          return lines.length >= 2 ? lines.map((l) => JSON.parse(l)) : null;
        });
        assert.deepEqual(
          events.map((e) => [e.metadata.created, e.metadata.unchanged, e.metadata.failed]),
          [
            [5, 0, 2],
            [0, 5, 2],
          ],
          "both imports are in the log, oldest first (the dry run is not)",
        );
      },
    ],
  ];
}
