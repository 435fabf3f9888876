// docs/OPERATIONS.md, "Crons" (triggering the cron locally): /cdn-cgi/local/scheduled on the running server,
// which was started as a plain `npm run dev` (no --test-scheduled, no restart).
import assert from "node:assert/strict";
import { assertStatus, eventually } from "./e2e-readme.mjs";

/** Returns [name, fn] pairs; `url` is the server's base URL. */
export function cronCases({ admin, anonymous }, state) {
  return [
    [
      "cron without a restart: /cdn-cgi/local/scheduled?cron=0+*+*+*+* expires an overdue certification",
      async () => {
        // An import with an explicit past expiry: certified in storage, expired by the clock.
        const skill = assertStatus(
          await admin("POST", "/api/v1/skills/", {
            name: "Cron Check",
            category: "Safety",
            level: "beginner",
            makerspace_id: "ms-1",
          }),
          201,
        );
        const past = new Date(Date.now() - 3_600_000).toISOString();
        assertStatus(
          await admin("POST", "/api/v1/skills/user-skills", {
            user_id: "cron-user",
            skill_id: skill.id,
            expires_at: past,
          }),
          201,
        );
        const run = await anonymous("GET", "/cdn-cgi/local/scheduled?cron=0+*+*+*+*");
        assert.equal(run.status, 200);
        assert.equal(run.body, "ok");
        // The run has finished when "ok" arrives; its skill_expired event comes through the queue.
        const started = Date.now();
        const expired = await eventually(async () => {
          const page = assertStatus(
            await admin("GET", "/api/v1/skills/audit-logs?user_id=cron-user&action=skill_expired"),
            200,
          );
          return page.items[0];
        });
        state.cronAuditMs = Date.now() - started;
        assert.equal(expired.performed_by, "system");
        assert.equal(expired.skill_id, skill.id);
      },
    ],
    [
      "cron without a restart: the daily run answers ok; the --test-scheduled route is not served",
      async () => {
        const run = await anonymous("GET", "/cdn-cgi/local/scheduled?cron=30+3+*+*+*");
        assert.equal(run.status, 200);
        assert.equal(run.body, "ok");
        assert.equal((await anonymous("GET", "/__scheduled?cron=0+*+*+*+*")).status, 404);
      },
    ],
  ];
}
