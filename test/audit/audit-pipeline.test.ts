import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CURSOR_PATTERN } from "../../src/audit/audit.schemas";
import type { AuditEvent } from "../../src/audit/events";
import { decodeCursor, encodeCursor } from "../../src/audit/log";
import { sendEvents } from "../../src/audit/producer";
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
      expect(cursor).not.toMatch(CURSOR_PATTERN);
    },
  );

  const seed = Number(env.FC_SEED);
  const position = fc.record({
    createdAt: fc
      .date({ min: new Date("0000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true })
      .map((d) => d.toISOString()),
    id: fc.string({ unit: "grapheme", minLength: 1, maxLength: 100 }),
  });

  it("documents every cursor it produces: each one matches the pattern", () => {
    fc.assert(
      fc.property(position, (p) => {
        expect(encodeCursor(p)).toMatch(CURSOR_PATTERN);
      }),
      { seed, numRuns: 300 },
    );
  });

  it("accepts every string the pattern admits (the document promises no more than it takes)", () => {
    fc.assert(
      fc.property(fc.stringMatching(CURSOR_PATTERN), (cursor) => {
        expect(() => decodeCursor(cursor), cursor).not.toThrow();
      }),
      { seed, numRuns: 500 },
    );
  });

  it("admits no string that breaks the shape: a wrong head or an empty id is outside the pattern", () => {
    expect(encodeCursor({ createdAt: "2026-01-15T10:30:00.000Z", id: "e" })).toMatch(CURSOR_PATTERN);
    for (const createdAt of ["2026-01-15T10:30:00.000X", "2026-01-15 10:30:00.000Z", "2026-1-15T10:30:00.000Z"]) {
      expect(encodeCursor({ createdAt, id: "e" }), createdAt).not.toMatch(CURSOR_PATTERN);
    }
    expect(encodeCursor({ createdAt: "2026-01-15T10:30:00.000Z", id: "" })).not.toMatch(CURSOR_PATTERN);
  });
});
