import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/events";
import { sendEvents } from "../../src/audit/producer";
import { decodeCursor, encodeCursor } from "../../src/services/audit-logs";
import { auditEvent } from "../helpers/audit";

function recordingQueue(): { queue: Queue; batches: AuditEvent[][] } {
  const batches: AuditEvent[][] = [];
  const queue = {
    async sendBatch(messages: Iterable<MessageSendRequest<AuditEvent>>) {
      batches.push([...messages].map((m) => m.body));
    },
  };
  return { queue: queue as unknown as Queue, batches };
}

describe("sendEvents", () => {
  it("sends at most 100 messages per call, in order", async () => {
    const { queue, batches } = recordingQueue();
    const events = Array.from({ length: 250 }, () => auditEvent());
    await sendEvents(queue, events);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat()).toEqual(events);
  });

  it("keeps each call under the 256 KB batch limit", async () => {
    const { queue, batches } = recordingQueue();
    const events = Array.from({ length: 30 }, () => auditEvent({ metadata: { blob: "x".repeat(20_000) } }));
    await sendEvents(queue, events);
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(new TextEncoder().encode(JSON.stringify(b)).byteLength).toBeLessThan(256 * 1024);
    expect(batches.flat()).toEqual(events);
  });
});

describe("audit-log cursor", () => {
  it("round-trips created_at and id, URL-safe", () => {
    const position = { createdAt: "2026-01-15T10:30:00.000Z", id: "evt_a/b+c|d" };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each(["", "%%%", btoa("no-separator"), btoa("not-a-date|evt_1"), btoa("2026-01-15T10:30:00.000Z|")])(
    "rejects %j as a validation error",
    (cursor) => {
      expect(() => decodeCursor(cursor)).toThrowError(expect.objectContaining({ type: "validation_error" }));
    },
  );
});
