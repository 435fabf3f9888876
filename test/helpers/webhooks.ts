import { env } from "cloudflare:workers";
import { inject } from "vitest";
import type { WebhookJob } from "../../src/webhooks/events";
import { deliver } from "./audit";
import { callJson } from "./http";
import { admin } from "./tokens";

export const WEBHOOK_QUEUE_NAME = "makrcave-webhooks";

/** A queue binding that keeps what is sent to it, for a test to hand to the consumer itself. */
export function recordingQueue<T = unknown>(): { queue: Queue; sent: T[] } {
  const sent: T[] = [];
  const queue = {
    async send(body: T) {
      sent.push(body);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<T>>) {
      for (const m of messages) sent.push(m.body);
    },
  };
  return { queue: queue as unknown as Queue, sent };
}

/**
 * The test env as `npm run dev` runs it (`ALLOW_UNREGISTERED_DEVICES=true`, so webhooks may call
 * the receiver on 127.0.0.1), with both queues recording: a test moves messages along the
 * pipeline itself — change → audit consumer → webhook consumer — so nothing runs in the
 * background and every step can be inspected.
 */
export function webhookEnv(vars: Partial<Record<keyof Env, string>> = {}) {
  const audit = recordingQueue();
  const jobs = recordingQueue<WebhookJob>();
  const e = {
    ...env,
    ALLOW_UNREGISTERED_DEVICES: "true",
    ...vars,
    AUDIT_QUEUE: audit.queue,
    WEBHOOK_QUEUE: jobs.queue,
  } as Env;
  return { env: e, audit: audit.sent, jobs: jobs.sent };
}

export interface ReceivedDelivery {
  headers: Record<string, string>;
  body: string;
  received_at: number;
}

/** A named receiver on the test server (test/setup/webhook-receiver.ts). */
export function receiver(name = `r-${crypto.randomUUID().slice(0, 8)}`) {
  const base = inject("webhookReceiverUrl");
  return {
    url: `${base}/hook/${name}`,
    async set(behaviour: { status?: number; failFirst?: number; hang?: boolean }) {
      await fetch(`${base}/control/${name}`, { method: "PUT", body: JSON.stringify(behaviour) });
    },
    async deliveries(): Promise<ReceivedDelivery[]> {
      const res = await fetch(`${base}/control/${name}`);
      return ((await res.json()) as { deliveries: ReceivedDelivery[] }).deliveries;
    },
  };
}

let makerspaces = 0;
/** A makerspace of the test's own, so no other test's events reach its webhooks. */
export function uniqueMakerspace(): string {
  makerspaces += 1;
  return `ms-wh-${makerspaces}-${crypto.randomUUID().slice(0, 6)}`;
}

export async function createWebhook(body: Record<string, unknown>, opts: { env?: Env; token?: string } = {}) {
  const makerspace = (body.makerspace_id as string | undefined) ?? "ms-1";
  return callJson<{ webhook: Record<string, unknown> & { id: string }; secret: string }>("POST", "/api/v1/webhooks", {
    token: opts.token ?? (await admin(makerspace)),
    body: { makerspace_id: makerspace, ...body },
    ...(opts.env ? { env: opts.env } : {}),
  });
}

/** Runs the webhook consumer on these jobs (attempt number as Queues counts it). */
export function deliverJobs(jobs: unknown[], opts: { env?: Env; attempts?: number } = {}) {
  return deliver(jobs, { ...opts, queue: WEBHOOK_QUEUE_NAME });
}
