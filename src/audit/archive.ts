import { sha256Hex } from "../platform/hash";
import type { AuditAction, AuditEvent } from "./events";

/**
 * The R2 archive of access events (`access_granted`, `access_denied`): the bulk of the audit log,
 * kept in D1 only ACCESS_EVENT_RETENTION_DAYS. The audit consumer writes them to the bucket
 * AUDIT_ARCHIVE before it writes them to D1, as NDJSON objects per makerspace and UTC day:
 *
 *   audit/{makerspace_id}/{yyyy}/{mm}/{dd}/{batch-id}.ndjson
 *
 * `makerspace_id` is URI-encoded (so a `/` in an id cannot shift the layout); each object holds
 * one delivery's events of that makerspace and day, one JSON event per line, in (created_at, id)
 * order; `batch-id` is the SHA-256 of the sorted event ids. The same events therefore always make
 * the same object, byte for byte: a batch delivered again overwrites its objects with themselves.
 */
export const ARCHIVED_ACTIONS: readonly AuditAction[] = ["access_granted", "access_denied"];

export function isArchivedAction(action: string): boolean {
  return (ARCHIVED_ACTIONS as readonly string[]).includes(action);
}

/** `yyyy/mm/dd` of an ISO timestamp (its UTC day). */
export function archiveDay(createdAt: string): string {
  return `${createdAt.slice(0, 4)}/${createdAt.slice(5, 7)}/${createdAt.slice(8, 10)}`;
}

export function makerspacePrefix(makerspaceId: string): string {
  return `audit/${encodeURIComponent(makerspaceId)}/`;
}

export function dayPrefix(makerspaceId: string, day: string): string {
  return `${makerspacePrefix(makerspaceId)}${day}/`;
}

/** The archive's order, and the export's: `created_at`, then `id`. */
export function byTimeThenId(a: AuditEvent, b: AuditEvent): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export interface ArchiveObject {
  key: string;
  events: AuditEvent[];
  body: Uint8Array;
}

const encoder = new TextEncoder();

/** The objects `events` make (access events only; others are ignored), one per makerspace and day. */
export async function archiveObjects(events: readonly AuditEvent[]): Promise<ArchiveObject[]> {
  const groups = new Map<string, AuditEvent[]>();
  for (const event of events) {
    if (!isArchivedAction(event.action)) continue;
    const prefix = dayPrefix(event.makerspace_id, archiveDay(event.created_at));
    const group = groups.get(prefix) ?? [];
    group.push(event);
    groups.set(prefix, group);
  }
  const out: ArchiveObject[] = [];
  for (const [prefix, group] of groups) {
    const unique = [...new Map(group.map((e) => [e.id, e])).values()].sort(byTimeThenId);
    const batchId = (
      await sha256Hex(
        unique
          .map((e) => e.id)
          .sort()
          .join("\n"),
      )
    ).slice(0, 32);
    out.push({
      key: `${prefix}${batchId}.ndjson`,
      events: unique,
      body: encoder.encode(`${unique.map((e) => JSON.stringify(e)).join("\n")}\n`),
    });
  }
  return out;
}

export interface ArchiveOutcome {
  /** Ids of the access events now in the archive. */
  archived: Set<string>;
  /** Ids whose object could not be written, each with R2's error. */
  failed: Map<string, unknown>;
  objects: number;
  bytes: number;
}

/**
 * Writes the access events among `events` to the archive, one object per makerspace and day, all
 * at once; an object R2 refuses fails only its own events. Events of other actions are not archived
 * (and appear in neither set).
 */
export async function archiveAccessEvents(bucket: R2Bucket, events: readonly AuditEvent[]): Promise<ArchiveOutcome> {
  const outcome: ArchiveOutcome = { archived: new Set(), failed: new Map(), objects: 0, bytes: 0 };
  const objects = await archiveObjects(events);
  const results = await Promise.allSettled(
    objects.map((o) =>
      bucket.put(o.key, o.body, {
        httpMetadata: { contentType: "application/x-ndjson" },
        customMetadata: { events: String(o.events.length) },
      }),
    ),
  );
  for (const [i, result] of results.entries()) {
    const object = objects[i] as ArchiveObject;
    if (result.status === "fulfilled") {
      outcome.objects += 1;
      outcome.bytes += object.body.byteLength;
      for (const e of object.events) outcome.archived.add(e.id);
    } else {
      for (const e of object.events) outcome.failed.set(e.id, result.reason);
    }
  }
  return outcome;
}
