import { describe, expect, it } from "vitest";
import { sign, verify, WebhookVerificationError } from "../../scripts/lib/standard-webhooks.mjs";
import {
  fromBase64,
  generateWebhookSecret,
  SECRET_PREFIX,
  signedHeaders,
  signWebhook,
} from "../../src/webhooks/signature";

/** The example of the Standard Webhooks specification and its reference libraries' tests. */
const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const AT_SPEC_TIME = { now: SPEC.timestamp * 1000 };
const specHeaders = (overrides: Record<string, string> = {}) => ({
  "webhook-id": SPEC.id,
  "webhook-timestamp": String(SPEC.timestamp),
  "webhook-signature": SPEC.signature,
  ...overrides,
});

describe("the service's signer", () => {
  it("signs the specification's example exactly", async () => {
    expect(await signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
    expect(await signedHeaders(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toEqual(specHeaders());
  });

  it("makes secrets of whsec_ and 32 random bytes, each different", () => {
    const a = generateWebhookSecret();
    expect(a.startsWith(SECRET_PREFIX)).toBe(true);
    expect(fromBase64(a.slice(SECRET_PREFIX.length))).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});

describe("the e2e receiver's verifier (scripts/lib/standard-webhooks.mjs)", () => {
  it("computes the specification's signature", async () => {
    expect(await sign(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  it("accepts the example, from Headers or a plain object, and among several signatures", async () => {
    expect(await verify(SPEC.secret, specHeaders(), SPEC.body, AT_SPEC_TIME)).toEqual({ test: 2432232314 });
    expect(await verify(SPEC.secret, new Headers(specHeaders()), SPEC.body, AT_SPEC_TIME)).toEqual({
      test: 2432232314,
    });
    const several = specHeaders({
      "webhook-signature": `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${SPEC.signature}`,
    });
    expect(await verify(SPEC.secret, several, SPEC.body, AT_SPEC_TIME)).toEqual({ test: 2432232314 });
  });

  it.each([
    ["a changed body", specHeaders(), '{"test": 2432232315}', "no matching signature"],
    ["another id", specHeaders({ "webhook-id": "msg_other" }), SPEC.body, "no matching signature"],
    [
      "another secret's signature",
      specHeaders({ "webhook-signature": "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=" }),
      SPEC.body,
      "no matching signature",
    ],
    [
      "an unknown version only",
      specHeaders({ "webhook-signature": `v2,${SPEC.signature.slice(3)}` }),
      SPEC.body,
      "no matching signature",
    ],
    [
      "a missing header",
      { "webhook-id": SPEC.id, "webhook-timestamp": String(SPEC.timestamp) },
      SPEC.body,
      "missing required headers",
    ],
    ["a non-numeric timestamp", specHeaders({ "webhook-timestamp": "1614265330x" }), SPEC.body, "invalid timestamp"],
  ])("refuses %s", async (_why, headers, body, message) => {
    await expect(verify(SPEC.secret, headers, body, AT_SPEC_TIME)).rejects.toThrow(message);
    await expect(verify(SPEC.secret, headers, body, AT_SPEC_TIME)).rejects.toBeInstanceOf(WebhookVerificationError);
  });

  it("refuses timestamps more than 5 minutes away, either way", async () => {
    const at = (seconds: number) => ({ now: (SPEC.timestamp + seconds) * 1000 });
    expect(await verify(SPEC.secret, specHeaders(), SPEC.body, at(300))).toBeTruthy();
    await expect(verify(SPEC.secret, specHeaders(), SPEC.body, at(301))).rejects.toThrow("too old");
    await expect(verify(SPEC.secret, specHeaders(), SPEC.body, at(-301))).rejects.toThrow("too new");
  });

  it("verifies what the service signs (any secret, any body)", async () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ id: "evt_1", type: "webhook.test", data: { note: "héllo ✓" } });
    const now = Math.floor(Date.now() / 1000);
    const headers = await signedHeaders(secret, "evt_1", now, body);
    expect(await verify(secret, headers, body)).toMatchObject({ type: "webhook.test" });
  });
});
