import { describe, expect, it } from "vitest";
import { verify } from "../../scripts/lib/standard-webhooks.mjs";
import type { AuditEvent } from "../../src/audit/events";
import { HOURLY_CRON } from "../../src/cron/scheduled";
import type { WebhookJob } from "../../src/webhooks/events";
import { auditRowCount, deliver, runCron } from "../helpers/audit";
import { type UserSkillBody, uniqueUser } from "../helpers/certifications";
import { makeEquipment, makeSkill, seedCertification } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { countOnEveryShard } from "../helpers/shards";
import { admin, device } from "../helpers/tokens";
import { createWebhook, deliverJobs, receiver, uniqueMakerspace, webhookEnv } from "../helpers/webhooks";

interface DeliveryItem {
  event_id: string;
  event_type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  delivered_at: string;
  next_attempt_at: string | null;
}

async function deliveriesOf(ms: string, id: string): Promise<DeliveryItem[]> {
  const res = await callJson<{ items: DeliveryItem[] }>("GET", `/api/v1/webhooks/${id}/deliveries`, {
    token: await admin(ms),
  });
  return res.body.items;
}

/** A makerspace with one skill, a webhook on a fresh receiver, and the pipeline's recording env. */
async function setup(events: string[]) {
  const ms = uniqueMakerspace();
  const pipeline = webhookEnv();
  const r = receiver();
  const hook = await createWebhook({ makerspace_id: ms, url: r.url, events }, { env: pipeline.env });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  pipeline.audit.splice(0); // webhook_created: not what these tests follow
  const skill = await makeSkill({ makerspace_id: ms });
  return { ms, pipeline, r, hook: hook.body.webhook, secret: hook.body.secret, skill, token: await admin(ms) };
}

describe("a change reaches a receiver, signed (grant → audit queue → webhook queue → POST)", () => {
  it("certification.granted: the user skill as the API returns it, verifiable with Standard Webhooks", async () => {
    const { ms, pipeline, r, hook, secret, skill, token } = await setup(["certification.granted"]);
    const user = uniqueUser();
    const granted = await callJson<UserSkillBody>("POST", "/api/v1/skills/user-skills", {
      token,
      env: pipeline.env,
      body: { user_id: user, skill_id: skill.id, notes: "Passed", quiz_score: "95%" },
    });
    expect(granted.status).toBe(201);
    const audit = pipeline.audit.splice(0) as AuditEvent[];
    expect(audit.map((e) => e.action)).toEqual(["skill_granted"]);

    const consumed = await deliver(audit, { env: pipeline.env });
    expect(consumed.result.explicitAcks).toEqual(consumed.ids);
    const jobs = pipeline.jobs.splice(0) as WebhookJob[];
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ webhook_id: hook.id, event_id: audit[0]?.id, event_type: "certification.granted" });

    const sent = await deliverJobs(jobs, { env: pipeline.env, attempts: 1 });
    expect(sent.result.explicitAcks).toEqual(sent.ids);
    const [received] = await r.deliveries();
    expect(received?.headers["content-type"]).toBe("application/json");
    const payload = await verify(secret, received?.headers ?? {}, received?.body ?? "");
    expect(payload).toEqual({
      id: audit[0]?.id,
      type: "certification.granted",
      created_at: audit[0]?.created_at,
      makerspace_id: ms,
      data: granted.body,
    });
    expect(received?.headers["webhook-id"]).toBe(audit[0]?.id);

    const [attempt] = await deliveriesOf(ms, hook.id);
    expect(attempt).toMatchObject({
      event_type: "certification.granted",
      attempt: 1,
      status_code: 204,
      error: null,
      next_attempt_at: null,
    });
  });

  it("request.created, request.reviewed, certification.revoked and access.denied carry their resources", async () => {
    const { ms, pipeline, r, skill, token } = await setup([
      "request.created",
      "request.reviewed",
      "certification.revoked",
      "access.denied",
      "certification.granted",
    ]);
    const user = uniqueUser();
    const eq = await makeEquipment({ makerspace_id: ms });
    await callJson("PUT", `/api/v1/skills/${skill.id}`, { token, body: { equipment_ids: [eq.id] } });
    const request = await callJson<{ id: string }>("POST", "/api/v1/skills/requests", {
      token,
      env: pipeline.env,
      body: { skill_id: skill.id, user_id: user },
    });
    await callJson("PUT", `/api/v1/skills/requests/${request.body.id}`, {
      token,
      env: pipeline.env,
      body: { status: "approved" },
    });
    const rows = await callJson<UserSkillBody[]>("GET", `/api/v1/skills/user-skills?user_id=${user}`, { token });
    await callJson("POST", `/api/v1/skills/user-skills/${rows.body[0]?.id}/revoke?reason=Unsafe`, {
      token,
      env: pipeline.env,
    });
    const denied = await callJson("POST", `/api/v1/skills/access/equipment/${eq.id}/verify`, {
      token: await device(`door-${ms}`, ms),
      env: pipeline.env,
      body: { user_id: user },
    });
    expect(denied.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 50)); // verify's events leave in a 20 ms window

    await deliver(pipeline.audit.splice(0), { env: pipeline.env });
    await deliverJobs(pipeline.jobs.splice(0), { env: pipeline.env });
    const bodies = (await r.deliveries()).map((d) => JSON.parse(d.body));
    const byType = new Map(bodies.map((b) => [b.type, b.data]));
    expect([...byType.keys()].sort()).toEqual([
      "access.denied",
      "certification.granted",
      "certification.revoked",
      "request.created",
      "request.reviewed",
    ]);
    expect(byType.get("request.reviewed")).toMatchObject({ id: request.body.id, status: "approved" });
    expect(byType.get("certification.revoked")).toMatchObject({ user_id: user, status: "revoked" });
    expect(byType.get("access.denied")).toEqual({
      equipment_id: eq.id,
      user_id: user,
      can_access: false,
      missing_skills: [skill.name],
      reason: `Missing required skills: ${skill.name}`,
      denial: "missing_skills",
      performed_by: `door-${ms}`,
    });
  });

  it("certification.expired: the hourly cron's set-based expiry reaches the webhook through the outbox and the audit queue", async () => {
    const { ms, pipeline, r, hook, skill } = await setup(["certification.expired"]);
    const user = uniqueUser();
    const overdue = new Date(Date.now() - 60_000).toISOString();
    const id = await seedCertification({ user_id: user, skill_id: skill.id, makerspace_id: ms, expires_at: overdue });
    // A makerspace where no webhook listens: its expiry is audited as before, and queued nowhere.
    const quiet = uniqueMakerspace();
    const quietSkill = await makeSkill({ makerspace_id: quiet });
    await seedCertification({
      user_id: uniqueUser(),
      skill_id: quietSkill.id,
      makerspace_id: quiet,
      expires_at: overdue,
    });

    await runCron(HOURLY_CRON, new Date(), pipeline.env);
    const sent = (pipeline.audit.splice(0) as AuditEvent[]).filter(
      (e) => e.makerspace_id === ms || e.makerspace_id === quiet,
    );
    expect(sent.map((e) => [e.action, e.makerspace_id, e.metadata.user_skill_id])).toEqual([["skill_expired", ms, id]]);
    const [expired] = sent as [AuditEvent];
    // Written by the cron with the change; the outbox holds it until the consumer has fanned it out.
    expect(await auditRowCount(expired.id)).toBe(1);
    const quietEvents = await countOnEveryShard(
      "select count(*) as n from skill_audit_logs where makerspace_id = ? and action = 'skill_expired'",
      quiet,
    );
    expect(quietEvents).toBe(1);

    const consumed = await deliver(sent, { env: pipeline.env });
    expect(consumed.result.explicitAcks).toEqual(consumed.ids);
    expect(await auditRowCount(expired.id)).toBe(1);
    expect(await countOnEveryShard("select count(*) as n from audit_outbox where id = ?", expired.id)).toBe(0);

    const jobs = pipeline.jobs.splice(0) as WebhookJob[];
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ webhook_id: hook.id, event_id: expired.id, event_type: "certification.expired" });
    await deliverJobs(jobs, { env: pipeline.env });
    const [received] = await r.deliveries();
    expect(JSON.parse(received?.body ?? "{}")).toMatchObject({
      id: expired.id,
      type: "certification.expired",
      makerspace_id: ms,
      data: { id, user_id: user, skill_id: skill.id, status: "expired", expires_at: overdue },
    });
  });

  it("nothing is queued for events no webhook of the makerspace subscribes to", async () => {
    const { pipeline, skill, token } = await setup(["certification.expired"]);
    await callJson("POST", "/api/v1/skills/user-skills", {
      token,
      env: pipeline.env,
      body: { user_id: uniqueUser(), skill_id: skill.id },
    });
    const consumed = await deliver(pipeline.audit.splice(0), { env: pipeline.env });
    expect(consumed.result.explicitAcks).toHaveLength(1);
    expect(pipeline.jobs).toEqual([]);
  });
});

describe("what a webhook hears", () => {
  it("only what happens after it is created, though the queue brings older events after it", async () => {
    const ms = uniqueMakerspace();
    const pipeline = webhookEnv();
    const skill = await makeSkill({ makerspace_id: ms });
    await callJson("POST", "/api/v1/skills/user-skills", {
      token: await admin(ms),
      env: pipeline.env,
      body: { user_id: uniqueUser(), skill_id: skill.id },
    });
    const before = pipeline.audit.splice(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await createWebhook(
      { makerspace_id: ms, url: receiver().url, events: ["certification.granted"] },
      { env: pipeline.env },
    );
    await deliver(before, { env: pipeline.env });
    expect(pipeline.jobs).toEqual([]);
  });
});

describe("POST /webhooks/{id}/test", () => {
  it("202 with the event, queued for this webhook only — inactive ones too", async () => {
    const { ms, pipeline, r, hook, secret, token } = await setup(["request.created"]);
    await callJson("PUT", `/api/v1/webhooks/${hook.id}`, { token, body: { active: false } });
    const res = await callJson<{ id: string; type: string }>("POST", `/api/v1/webhooks/${hook.id}/test`, {
      token,
      env: pipeline.env,
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ type: "webhook.test", makerspace_id: ms, data: { webhook_id: hook.id } });
    await deliverJobs(pipeline.jobs.splice(0), { env: pipeline.env });
    const [received] = await r.deliveries();
    expect(await verify(secret, received?.headers ?? {}, received?.body ?? "")).toEqual(res.body);
  });
});
