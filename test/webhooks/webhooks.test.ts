import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openSecret } from "../../src/webhooks/secret-box";
import { expectError, expectValidation } from "../helpers/assertions";
import { callJson, envWith } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { shardDb } from "../helpers/shards";
import { admin, member } from "../helpers/tokens";
import { createWebhook, uniqueMakerspace, webhookEnv } from "../helpers/webhooks";

const HOOK = "https://hooks.example.org/makrcave";

async function outboxActions(makerspace: string): Promise<{ action: string; metadata: Record<string, unknown> }[]> {
  const rows = await (await shardDb(makerspace))
    .prepare("select payload from audit_outbox where json_extract(payload, '$.makerspace_id') = ? order by created_at")
    .bind(makerspace)
    .all<{ payload: string }>();
  return rows.results.map((r) => JSON.parse(r.payload));
}

describe("POST /webhooks", () => {
  it("201 with the webhook and its whsec_ secret, shown once; audited with the host only", async () => {
    const ms = uniqueMakerspace();
    const res = await createWebhook({
      makerspace_id: ms,
      url: `${HOOK}?token=receiver-secret`,
      events: ["certification.granted", "access.denied", "certification.granted"],
      description: "Membership CRM",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(res.body.webhook).toEqual({
      id: expect.stringMatching(/^wh_/),
      makerspace_id: ms,
      url: `${HOOK}?token=receiver-secret`,
      events: ["certification.granted", "access.denied"],
      description: "Membership CRM",
      active: true,
      failing_since: null,
      created_by: "admin-1",
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const read = await callJson("GET", `/api/v1/webhooks/${res.body.webhook.id}`, { token: await admin(ms) });
    expect(read.body).toEqual(res.body.webhook);
    expect(JSON.stringify(read.body)).not.toContain("whsec_");

    const [created] = await outboxActions(ms);
    expect(created).toMatchObject({
      action: "webhook_created",
      metadata: {
        webhook_id: res.body.webhook.id,
        host: "hooks.example.org",
        events: ["certification.granted", "access.denied"],
      },
    });
    expect(JSON.stringify(created)).not.toContain("receiver-secret");
  });

  it("keeps the secret sealed: not in the row, opened only with the key and for its own webhook", async () => {
    const ms = uniqueMakerspace();
    const a = await createWebhook({ makerspace_id: ms, url: HOOK, events: ["request.created"] });
    const b = await createWebhook({ makerspace_id: ms, url: HOOK, events: ["request.created"] });
    const rows = await (await shardDb(ms))
      .prepare("select id, secret_ciphertext from webhooks where makerspace_id = ? order by id")
      .bind(ms)
      .all<{ id: string; secret_ciphertext: string }>();
    const sealedA = rows.results.find((r) => r.id === a.body.webhook.id)?.secret_ciphertext as string;
    expect(sealedA).toMatch(/^v1\./);
    expect(sealedA).not.toContain(a.body.secret.slice(6));
    expect(await openSecret(env.WEBHOOK_ENCRYPTION_KEY, a.body.webhook.id, sealedA)).toBe(a.body.secret);
    await expect(openSecret(env.WEBHOOK_ENCRYPTION_KEY, b.body.webhook.id, sealedA)).rejects.toThrow();
    const otherKey = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
    await expect(openSecret(otherKey, a.body.webhook.id, sealedA)).rejects.toThrow();
  });

  it.each([
    ["plain http", "http://hooks.example.org/in", "must be https"],
    ["localhost", "https://localhost/in", "must not name a local or internal host"],
    ["a private address", "https://10.0.0.5/in", "must not be a private or reserved address"],
    ["cloud metadata", "https://169.254.169.254/latest", "must not be a private or reserved address"],
    ["IPv6 loopback", "https://[::1]/in", "must not be a private or reserved address"],
    ["an .internal host", "https://billing.internal/in", "must not name a local or internal host"],
    ["the local receiver, in a deployed setting", "http://127.0.0.1:9999/in", "must be https"],
    ["credentials", "https://u:p@hooks.example.org/in", "must not carry credentials"],
  ])("422 for %s", async (_why, url, message) => {
    const res = await createWebhook({ url, events: ["request.created"] });
    expectValidation(res, ["url"]);
    expect(JSON.stringify(res.body)).toContain(message);
  });

  it("http://127.0.0.1 is allowed where ALLOW_UNREGISTERED_DEVICES=true (npm run dev)", async () => {
    const res = await createWebhook(
      { makerspace_id: uniqueMakerspace(), url: "http://127.0.0.1:9999/in", events: ["request.created"] },
      { env: webhookEnv().env },
    );
    expect(res.status).toBe(201);
  });

  it("422 for no events, an unknown event, an unknown field", async () => {
    expectValidation(await createWebhook({ url: HOOK, events: [] }), ["events"]);
    expectValidation(await createWebhook({ url: HOOK, events: ["certification.deleted"] }), ["events.0"]);
    expectValidation(await createWebhook({ url: HOOK, events: ["webhook.test"] }), ["events.0"]);
    expectValidation(await createWebhook({ url: HOOK, events: ["request.created"], secret: "mine" }), ["secret"]);
  });

  it("at most 20 per makerspace (409), counted by the insert itself", async () => {
    const ms = uniqueMakerspace();
    const all = await Promise.all(
      Array.from({ length: 22 }, () => createWebhook({ makerspace_id: ms, url: HOOK, events: ["request.created"] })),
    );
    expect(all.filter((r) => r.status === 201)).toHaveLength(20);
    for (const r of all.filter((x) => x.status !== 201)) expectError(r, 409, "invalid_state");
  });

  it("admins only, in their makerspace; a missing encryption key is a config_error of webhooks only", async () => {
    expectError(
      await createWebhook({ url: HOOK, events: ["request.created"] }, { token: await member() }),
      403,
      "forbidden",
    );
    expectError(
      await createWebhook(
        { makerspace_id: "ms-2", url: HOOK, events: ["request.created"] },
        { token: await admin("ms-1") },
      ),
      403,
      "forbidden",
    );
    const logs = captureLogs();
    const noKey = envWith({ WEBHOOK_ENCRYPTION_KEY: "" });
    const res = await createWebhook({ url: HOOK, events: ["request.created"] }, { env: noKey });
    expectError(res, 500, "config_error");
    expect(logs.lines[0]).toMatchObject({
      msg: "invalid configuration",
      variables: ["WEBHOOK_ENCRYPTION_KEY: is not set"],
    });
    expect((await callJson("GET", "/api/v1/skills/", { token: await admin(), env: noKey })).status).toBe(200);
  });
});

describe("GET, PUT, DELETE /webhooks", () => {
  it("lists the makerspace's webhooks; another makerspace's is 404", async () => {
    const ms = uniqueMakerspace();
    const a = await createWebhook({ makerspace_id: ms, url: HOOK, events: ["request.created"] });
    await createWebhook({ makerspace_id: ms, url: `${HOOK}/2`, events: ["access.denied"] });
    const list = await callJson<{ id: string }[]>("GET", "/api/v1/webhooks", { token: await admin(ms) });
    expect(list.body.map((w) => w.id)).toContain(a.body.webhook.id);
    expect(list.body).toHaveLength(2);
    expectError(
      await callJson("GET", `/api/v1/webhooks/${a.body.webhook.id}`, { token: await admin("ms-1") }),
      404,
      "webhook_not_found",
    );
  });

  it("PUT changes url, events and active (re-activating clears failing_since); audited", async () => {
    const ms = uniqueMakerspace();
    const { body } = await createWebhook({ makerspace_id: ms, url: HOOK, events: ["request.created"] });
    const id = body.webhook.id;
    await (await shardDb(ms))
      .prepare("update webhooks set active = 0, failing_since = '2026-01-01T00:00:00.000Z' where id = ?")
      .bind(id)
      .run();
    const res = await callJson("PUT", `/api/v1/webhooks/${id}`, {
      token: await admin(ms),
      body: { url: `${HOOK}/v2`, events: ["certification.expiring"], active: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      url: `${HOOK}/v2`,
      events: ["certification.expiring"],
      active: true,
      failing_since: null,
    });
    expectValidation(await callJson("PUT", `/api/v1/webhooks/${id}`, { token: await admin(ms), body: {} }), ["(root)"]);
    expectValidation(
      await callJson("PUT", `/api/v1/webhooks/${id}`, { token: await admin(ms), body: { url: "https://127.0.0.1/" } }),
      ["url"],
    );
    expect((await outboxActions(ms)).map((e) => e.action)).toEqual(["webhook_created", "webhook_updated"]);
  });

  it("DELETE answers 204 and audits; a second DELETE is 404", async () => {
    const ms = uniqueMakerspace();
    const { body } = await createWebhook({ makerspace_id: ms, url: HOOK, events: ["request.created"] });
    const del = await callJson("DELETE", `/api/v1/webhooks/${body.webhook.id}`, { token: await admin(ms) });
    expect(del.status).toBe(204);
    expectError(
      await callJson("DELETE", `/api/v1/webhooks/${body.webhook.id}`, { token: await admin(ms) }),
      404,
      "webhook_not_found",
    );
    expect((await outboxActions(ms)).map((e) => e.action)).toEqual(["webhook_created", "webhook_deleted"]);
  });
});
