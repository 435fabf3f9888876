// Webhooks end to end: a real local receiver (webhook-receiver.mjs) subscribed through the API,
// changes made over HTTP, deliveries arriving from the real queues of `wrangler dev` and verified
// with a Standard Webhooks verifier written apart from the service's signer.
import assert from "node:assert/strict";
import { assertStatus, eventually } from "./e2e-readme.mjs";
import { sign } from "./standard-webhooks.mjs";
import { startReceiver } from "./webhook-receiver.mjs";

/** The specification's own example (https://www.standardwebhooks.com). */
const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

/** Returns [name, fn] pairs; `state.receiver` is closed by `closeWebhookReceiver(state)`. */
export function webhookCases({ admin, door, anonymous }, state) {
  const subscribe = async (receiver, events) => {
    const created = assertStatus(
      await admin("POST", "/api/v1/webhooks", { url: receiver.url, events, makerspace_id: "ms-1" }),
      201,
    );
    assert.match(created.secret, /^whsec_/);
    receiver.useSecret(created.secret);
    return created.webhook;
  };
  const attempts = async (id) => assertStatus(await admin("GET", `/api/v1/webhooks/${id}/deliveries`), 200).items;
  const skill = async (name) =>
    assertStatus(
      await admin("POST", "/api/v1/skills/", { name, category: "Safety", level: "beginner", makerspace_id: "ms-1" }),
      201,
    );

  return [
    [
      "webhooks: the receiver's verifier matches the Standard Webhooks example signature",
      async () => {
        assert.equal(await sign(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body), SPEC.signature);
        state.receiver = await startReceiver();
      },
    ],
    [
      "webhooks: a grant reaches a local receiver, signed and verifiable, and the attempt is listed",
      async () => {
        const r = state.receiver.receiver("/grants");
        const hook = await subscribe(r, ["certification.granted"]);
        const s = await skill("Webhook Check");
        const granted = assertStatus(
          await admin("POST", "/api/v1/skills/user-skills", { user_id: "hook-user-1", skill_id: s.id }),
          201,
        );
        const started = Date.now();
        const delivery = await eventually(async () =>
          r.deliveries.find((d) => d.payload?.data?.user_id === "hook-user-1"),
        );
        state.webhookLatencyMs = Date.now() - started;
        assert.equal(delivery.error, null, "the signature verifies");
        assert.deepEqual(delivery.payload.data, granted);
        assert.equal(delivery.payload.type, "certification.granted");
        assert.equal(delivery.headers["webhook-id"], delivery.payload.id);
        const attempt = await eventually(async () =>
          (await attempts(hook.id)).find((a) => a.event_id === delivery.payload.id),
        );
        assert.equal(attempt.status_code, 204);
        assert.equal(attempt.attempt, 1);
      },
    ],
    [
      "webhooks: a failing receiver is retried with backoff (10 s) and recovers; each attempt is recorded",
      async () => {
        const r = state.receiver.receiver("/flaky", { failFirst: 1 });
        const hook = await subscribe(r, ["request.created"]);
        const s = await skill("Flaky Receiver Check");
        assertStatus(await admin("POST", "/api/v1/skills/requests", { skill_id: s.id, user_id: "hook-user-2" }), 201);
        await eventually(async () => r.deliveries.length >= 2, 45_000);
        const [first, second] = r.deliveries;
        assert.equal(first.payload.id, second.payload.id, "the same webhook-id on every attempt");
        const gap = second.received_at - first.received_at;
        assert.ok(gap >= 9_000, `retried after ${gap} ms`);
        const items = await eventually(async () => {
          const list = await attempts(hook.id);
          return list.length >= 2 ? list : null;
        });
        assert.deepEqual(
          items.map((a) => [a.attempt, a.status_code, a.error]),
          [
            [2, 204, null],
            [1, 500, "HTTP 500"],
          ],
        );
        state.retryGapMs = gap;
      },
    ],
    [
      "webhooks: a receiver that never answers times out after 10 s and does not delay another",
      async () => {
        const hang = state.receiver.receiver("/hang", { hang: true });
        const fast = state.receiver.receiver("/fast");
        const hung = await subscribe(hang, ["access.denied"]);
        await subscribe(fast, ["access.denied"]);
        const s = await skill("Timeout Check");
        const eq = assertStatus(
          await admin("POST", "/api/v1/equipment", { name: "Timeout lathe", makerspace_id: "ms-1" }),
          201,
        );
        assertStatus(await admin("PUT", `/api/v1/skills/${s.id}`, { equipment_ids: [eq.id] }), 200);
        const denied = await door("POST", `/api/v1/skills/access/equipment/${eq.id}/verify`, {
          user_id: "hook-user-3",
        });
        assert.equal(denied.status, 403);
        await eventually(async () => hang.deliveries.length > 0 && fast.deliveries.length > 0);
        const apart = Math.abs(fast.deliveries[0].received_at - hang.deliveries[0].received_at);
        assert.ok(apart < 2_000, `the fast receiver was served ${apart} ms apart from the hanging one`);
        assert.equal(fast.deliveries[0].payload.data.denial, "missing_skills");
        const [attempt] = await eventually(async () => {
          const list = await attempts(hung.id);
          return list.length > 0 ? list : null;
        }, 30_000);
        assert.equal(attempt.status_code, null);
        assert.equal(attempt.error, "no answer within 10 s");
        assert.ok(attempt.duration_ms >= 9_500, `gave up after ${attempt.duration_ms} ms`);
        // Stop subscribing the hanging receiver, so its retries do not outlive the run.
        assertStatus(await admin("DELETE", `/api/v1/webhooks/${hung.id}`), 204);
      },
    ],
    [
      "webhooks: POST /webhooks/{id}/test sends webhook.test through the queue",
      async () => {
        const r = state.receiver.receiver("/test-me");
        const hook = await subscribe(r, ["certification.revoked"]);
        const queued = assertStatus(await admin("POST", `/api/v1/webhooks/${hook.id}/test`), 202);
        const [delivery] = await eventually(async () => (r.deliveries.length > 0 ? r.deliveries : null));
        assert.equal(delivery.error, null);
        assert.deepEqual(delivery.payload, queued);
      },
    ],
    [
      "webhooks: the daily cron reminds of an expiring certification once per window",
      async () => {
        const r = state.receiver.receiver("/reminders");
        await subscribe(r, ["certification.expiring"]);
        const s = await skill("Reminder Check");
        const soon = new Date(Date.now() + 5 * 86_400_000).toISOString();
        const cert = assertStatus(
          await admin("POST", "/api/v1/skills/user-skills", {
            user_id: "hook-user-4",
            skill_id: s.id,
            expires_at: soon,
          }),
          201,
        );
        for (let run = 0; run < 2; run++) {
          const res = await anonymous("GET", "/cdn-cgi/local/scheduled?cron=30+3+*+*+*");
          assert.equal(res.body, "ok");
        }
        const [delivery] = await eventually(async () => (r.deliveries.length > 0 ? r.deliveries : null));
        assert.equal(delivery.payload.type, "certification.expiring");
        assert.equal(delivery.payload.data.id, cert.id);
        assert.equal(delivery.payload.data.threshold_days, 7);
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        assert.equal(r.deliveries.length, 1, "the second run sent nothing");
      },
    ],
  ];
}

export async function closeWebhookReceiver(state) {
  await state.receiver?.close();
}
