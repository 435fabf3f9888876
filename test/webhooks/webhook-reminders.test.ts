import { describe, expect, it } from "vitest";
import { DAILY_CRON, HOURLY_CRON } from "../../src/cron/scheduled";
import type { WebhookJob } from "../../src/webhooks/events";
import { runCron } from "../helpers/audit";
import { uniqueUser } from "../helpers/certifications";
import { makeSkill, seedCertification } from "../helpers/factories";
import { countOnEveryShard, runOnEveryShard } from "../helpers/shards";
import { createWebhook, receiver, uniqueMakerspace, webhookEnv } from "../helpers/webhooks";

const DAY = 86_400_000;

/** A makerspace whose webhook listens for reminders, and a clock the test moves. */
async function setup(events = ["certification.expiring"]) {
  const ms = uniqueMakerspace();
  const pipeline = webhookEnv();
  const hook = await createWebhook({ makerspace_id: ms, url: receiver().url, events }, { env: pipeline.env });
  const skill = await makeSkill({ makerspace_id: ms });
  const t0 = new Date(Math.ceil(Date.now() / DAY) * DAY + 3.5 * 3600_000);
  const at = (days: number) => new Date(t0.getTime() + days * DAY);
  const certify = (days: number, status: "certified" | "revoked" = "certified") =>
    seedCertification({
      user_id: uniqueUser(),
      skill_id: skill.id,
      makerspace_id: ms,
      status,
      expires_at: at(days).toISOString(),
    });
  /** Runs the daily cron at t0 + days; returns [user skill id, threshold] of each reminder sent to this webhook. */
  const daily = async (days: number) => {
    pipeline.jobs.splice(0);
    await runCron(DAILY_CRON, at(days), pipeline.env);
    return (pipeline.jobs as WebhookJob[])
      .filter((j) => j.webhook_id === hook.body.webhook.id)
      .map((j) => {
        const body = JSON.parse(j.body) as { type: string; data: { id: string; threshold_days: number } };
        expect(body.type).toBe("certification.expiring");
        return [body.data.id, body.data.threshold_days] as const;
      });
  };
  return { ms, pipeline, hook: hook.body.webhook, certify, daily, at };
}

describe("certification.expiring reminders (daily cron)", () => {
  it("once per certification and window (30, 7, 1 days), however often the cron runs", async () => {
    const { certify, daily } = await setup();
    const a = await certify(20);
    const b = await certify(5);
    const c = await certify(40);
    await certify(10, "revoked");

    expect(new Set(await daily(0))).toEqual(
      new Set([
        [a, 30],
        [b, 7],
      ]),
    );
    expect(await daily(0)).toEqual([]);
    expect(await daily(0.1)).toEqual([]);
    expect(new Set(await daily(14))).toEqual(
      new Set([
        [a, 7],
        [c, 30],
      ]),
    );
    expect(await daily(14)).toEqual([]);
    expect(new Set(await daily(19.5))).toEqual(new Set([[a, 1]]));
    // b expired at day 5 and c is between windows: nothing more until c's 7 days.
    expect(await daily(20)).toEqual([]);
    expect(await daily(33)).toEqual([[c, 7]]);
  });

  it("the payload is the certification as the API returns it, with threshold_days", async () => {
    const { certify, pipeline, daily, ms } = await setup();
    const id = await certify(3);
    await daily(0);
    const job = (pipeline.jobs as WebhookJob[])[0] as WebhookJob;
    expect(JSON.parse(job.body)).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: "certification.expiring",
      created_at: expect.any(String),
      makerspace_id: ms,
      data: expect.objectContaining({ id, status: "certified", makerspace_id: ms, threshold_days: 7 }),
    });
  });

  it("a renewal (a new expires_at) is reminded again; a revocation before the send is not", async () => {
    const { certify, daily, at } = await setup();
    const renewed = await certify(2);
    expect(await daily(0)).toEqual([[renewed, 7]]);
    await runOnEveryShard("update user_skills set expires_at = ? where id = ?", at(25).toISOString(), renewed);
    expect(await daily(1)).toEqual([[renewed, 30]]);

    const revoked = await certify(6);
    // Marked by a run that stopped before sending, then revoked: the next run does not remind it.
    await runOnEveryShard(
      `insert into certification_reminders (user_skill_id, threshold_days, expires_at, makerspace_id, event_id, created_at)
       select id, 7, expires_at, makerspace_id, 'evt_marked', ? from user_skills where id = ?`,
      at(1).toISOString(),
      revoked,
    );
    await runOnEveryShard("update user_skills set status = 'revoked' where id = ?", revoked);
    expect(await daily(1.5)).toEqual([]);
  });

  it("a reminder marked but not sent (a run that stopped) goes out next run, with the same event id", async () => {
    const { certify, pipeline, daily, at } = await setup();
    const id = await certify(6);
    await runOnEveryShard(
      `insert into certification_reminders (user_skill_id, threshold_days, expires_at, makerspace_id, event_id, created_at)
       select id, 7, expires_at, makerspace_id, 'evt_stopped-run', ? from user_skills where id = ?`,
      at(0).toISOString(),
      id,
    );
    expect(await daily(0)).toEqual([[id, 7]]);
    expect((pipeline.jobs as WebhookJob[]).map((j) => j.event_id)).toContain("evt_stopped-run");
    expect(await daily(0)).toEqual([]);
  });

  it("nothing is marked where no webhook listens for reminders, and the hourly cron sends none", async () => {
    const { certify, daily, pipeline, at } = await setup(["certification.granted"]);
    const id = await certify(3);
    expect(await daily(0)).toEqual([]);
    const marked = await countOnEveryShard(
      "select count(*) as n from certification_reminders where user_skill_id = ?",
      id,
    );
    expect(marked).toBe(0);
    pipeline.jobs.splice(0);
    await runCron(HOURLY_CRON, at(0), pipeline.env);
    expect(pipeline.jobs).toEqual([]);
  });
});
