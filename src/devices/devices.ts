import { and, asc, eq, type SQL, sql } from "drizzle-orm";
import { allowlistVersions } from "../access/allowlists";
import { newEvent } from "../audit/events";
import { guardedOutboxStatement, outboxStatements, publishCommitted } from "../audit/producer";
import { visibleOr404 } from "../identity/guards";
import { mintToken } from "../identity/jwt";
import type { Principal } from "../identity/principal";
import type { Deps } from "../platform/context";
import { changesOf, runBatch, valuesOf } from "../platform/db/client";
import { byKeys, sqliteLower } from "../platform/db/fan-out";
import { type DeviceRow, devices, equipment } from "../platform/db/schema";
import { AppError, validationError } from "../platform/errors";
import { newId } from "../platform/ids";
import { iso } from "../platform/time";
import { deviceCacheKey, forgetDevice } from "./cache";
import type { Device, DeviceCreate, DeviceListQuery, Heartbeat, HeartbeatBody } from "./devices.schemas";

/**
 * `online`: an active device with a heartbeat within the last 3 × DEVICE_HEARTBEAT_SECONDS; a
 * revoked device is never online, whatever it last sent.
 */
export function toDevice(deps: Deps, row: DeviceRow): Device {
  const onlineSince = deps.now.getTime() - 3 * deps.config.DEVICE_HEARTBEAT_SECONDS * 1000;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    makerspace_id: row.makerspaceId,
    equipment_ids: JSON.parse(row.equipmentIds) as string[],
    status: row.status,
    last_seen_at: row.lastSeenAt,
    online: row.status === "active" && row.lastSeenAt !== null && Date.parse(row.lastSeenAt) >= onlineSince,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

async function deviceRow(deps: Deps, actor: Principal, id: string): Promise<DeviceRow> {
  const row = await deps.db.select().from(devices).where(eq(devices.id, id)).get();
  return visibleOr404(actor, row, "device_not_found", "Device not found");
}

export async function getDevice(deps: Deps, actor: Principal, id: string): Promise<Device> {
  return toDevice(deps, await deviceRow(deps, actor, id));
}

/** The list order of `listDevices` (its ORDER BY), for merging shards' pages. */
export const DEVICE_ORDER = byKeys<Device>([(d) => sqliteLower(d.name), "asc"], [(d) => d.id, "asc"]);

export async function listDevices(deps: Deps, makerspaceId: string | undefined, q: DeviceListQuery): Promise<Device[]> {
  const where: SQL[] = [];
  if (makerspaceId) where.push(eq(devices.makerspaceId, makerspaceId));
  if (q.kind) where.push(eq(devices.kind, q.kind));
  if (q.status) where.push(eq(devices.status, q.status));
  const rows = await deps.db
    .select()
    .from(devices)
    .where(and(...where))
    .orderBy(sql`lower(${devices.name})`, asc(devices.id))
    .limit(q.limit)
    .offset(q.offset)
    .all();
  return rows.map((r) => toDevice(deps, r));
}

/** The device JWT: only its `jti` is stored, so the token is shown once. */
function deviceToken(deps: Deps, row: Pick<DeviceRow, "id" | "makerspaceId" | "kind">, jti: string) {
  return mintToken(deps.config, {
    sub: row.id,
    role: "device",
    makerspaceId: row.makerspaceId,
    jti,
    deviceKind: row.kind,
    lifetimeSeconds: deps.config.DEVICE_TOKEN_TTL_DAYS * 86_400,
  });
}

async function assertEquipmentExist(deps: Deps, makerspaceId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await deps.db
    .select({ id: equipment.id })
    .from(equipment)
    .where(and(eq(equipment.makerspaceId, makerspaceId), sql`${equipment.id} in ${valuesOf(ids)}`))
    .all();
  const found = new Set(rows.map((r) => r.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw validationError(
      [{ path: "equipment_ids", message: `unknown equipment ids: ${missing.join(", ")}` }],
      "Equipment must exist in the device's makerspace",
    );
  }
}

export async function registerDevice(
  deps: Deps,
  actor: Principal,
  input: DeviceCreate,
): Promise<{ device: Device; token: string }> {
  const equipmentIds = input.equipment_ids ?? [];
  await assertEquipmentExist(deps, input.makerspace_id, equipmentIds);
  const at = iso(deps.now);
  const row: DeviceRow = {
    id: newId("dev", deps),
    name: input.name,
    kind: input.kind,
    makerspaceId: input.makerspace_id,
    equipmentIds: JSON.stringify(equipmentIds),
    status: "active",
    tokenJti: crypto.randomUUID(),
    lastSeenAt: null,
    firmware: null,
    createdAt: at,
    updatedAt: at,
  };
  const event = newEvent(deps, {
    action: "device_registered",
    makerspaceId: row.makerspaceId,
    performedBy: actor.sub,
    metadata: { device_id: row.id, name: row.name, kind: row.kind, equipment_ids: equipmentIds },
  });
  await runBatch(deps.db, [deps.db.insert(devices).values(row), ...outboxStatements(deps.db, [event])]);
  publishCommitted(deps, [event]);
  return { device: toDevice(deps, row), token: await deviceToken(deps, row, row.tokenJti) };
}

function revokedError(): AppError {
  return new AppError("invalid_state", "Device is revoked");
}

/**
 * Replaces an active device's `jti` (and maybe its status) in one batch with its audit event;
 * this isolate's device cache forgets the row at once. The update and the event are conditional:
 * - a rotation on the device still holding the `jti` read here, so of concurrent rotations
 *   exactly one applies and the others are 409 — nobody is handed a token that never worked;
 * - a revocation on the device being active whatever its `jti`, so a rotation racing it never
 *   stops it (the rotation, if first, is simply revoked too).
 */
async function replaceJti(
  deps: Deps,
  actor: Principal,
  id: string,
  change: { action: "device_token_rotated" | "device_revoked"; jti: string; status: "active" | "revoked" },
): Promise<DeviceRow> {
  const current = await deviceRow(deps, actor, id);
  if (current.status !== "active") throw revokedError();
  const unchanged = change.action === "device_token_rotated" ? eq(devices.tokenJti, current.tokenJti) : undefined;
  const at = iso(deps.now);
  const event = newEvent(deps, {
    action: change.action,
    makerspaceId: current.makerspaceId,
    performedBy: actor.sub,
    metadata: { device_id: id, kind: current.kind },
  });
  const results = await runBatch(deps.db, [
    deps.db
      .update(devices)
      .set({ status: change.status, tokenJti: change.jti, updatedAt: at })
      .where(and(eq(devices.id, id), eq(devices.status, "active"), unchanged)),
    guardedOutboxStatement(
      deps.db,
      event,
      sql`exists (select 1 from ${devices} where ${devices.id} = ${id} and ${devices.tokenJti} = ${change.jti})`,
    ),
  ]);
  forgetDevice(deviceCacheKey(current.makerspaceId, id));
  if (changesOf(results[0]) !== 1) {
    const now = await deps.db.select({ status: devices.status }).from(devices).where(eq(devices.id, id)).get();
    if (now?.status !== "active") throw revokedError();
    throw new AppError("invalid_state", "The device's token was rotated by a concurrent request");
  }
  publishCommitted(deps, [event]);
  return { ...current, status: change.status, tokenJti: change.jti, updatedAt: at };
}

/** A new `jti` and token: every earlier token stops matching. */
export async function rotateDeviceToken(
  deps: Deps,
  actor: Principal,
  id: string,
): Promise<{ device: Device; token: string }> {
  const jti = crypto.randomUUID();
  const row = await replaceJti(deps, actor, id, { action: "device_token_rotated", jti, status: "active" });
  return { device: toDevice(deps, row), token: await deviceToken(deps, row, jti) };
}

/**
 * Revocation is final: status `revoked` and the `jti` replaced by one no token carries, so every
 * token of the device is refused by this isolate at once and by every other within the device
 * cache's 30 s.
 */
export async function revokeDevice(deps: Deps, actor: Principal, id: string): Promise<Device> {
  const jti = `revoked:${crypto.randomUUID()}`;
  return toDevice(deps, await replaceJti(deps, actor, id, { action: "device_revoked", jti, status: "revoked" }));
}

/**
 * POST /devices/{id}/heartbeat, by that device only (the route's `device-self`): records
 * `last_seen_at` (and firmware) and answers the current allow-list version of each of its items,
 * in one D1 batch. Not audited: it is telemetry, not a change anyone decided.
 */
export async function heartbeat(deps: Deps, device: Principal, body: HeartbeatBody): Promise<Heartbeat> {
  const { sub: id, makerspaceId } = device;
  // Every token but a super_admin's names a makerspace; this narrows the type.
  if (!makerspaceId) throw new AppError("forbidden", "Only a device of a makerspace sends heartbeats");
  const at = iso(deps.now);
  const update = deps.db
    .update(devices)
    .set({ lastSeenAt: at, ...(body.firmware ? { firmware: body.firmware } : {}) })
    .where(and(eq(devices.id, id), eq(devices.status, "active"), eq(devices.makerspaceId, makerspaceId)));
  const { versions, extra } = await allowlistVersions(deps, makerspaceId, device.deviceEquipmentIds ?? [], [update]);
  if (changesOf(extra[0]) !== 1) throw new AppError("device_not_found", "Device not found");
  return { server_time: at, allowlist_versions: versions };
}
