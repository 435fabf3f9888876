// Reference door/machine controller for the MakrCave Skills API. Online it asks `verify`; offline it
// answers from the last signed allow-list it verified, and once that list is past `valid_until` it
// refuses everyone (fail-secure). Its calls go through the typed client (src/client.ts), so a
// change to a route's path, body or answer fails its type check. Dependencies: hono, jose, tsx.
//
//   MAKRCAVE_URL=https://skills.example.org DEVICE_TOKEN=eyJ… EQUIPMENT_ID=eq-laser-001 \
//     npx tsx examples/controller/controller.ts      # then type (or let a USB reader type) badge UIDs
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { compactVerify, createRemoteJWKSet, decodeJwt } from "jose";
import type { Allowlist } from "../../src/access/allowlists.schemas";
import { type MakrcaveClient, makrcaveClient } from "../../src/client";

export interface ControllerConfig {
  baseUrl: string;
  /** This device's token (from `POST /api/v1/devices`); its `sub` is the device id. */
  token: string;
  equipmentId: string;
  /** Defaults to the service's `/.well-known/jwks.json`. */
  jwksUrl?: string;
  now?: () => number;
  /** Per call: a slow answer counts as no answer, and the offline list decides. */
  timeoutMs?: number;
  firmware?: string;
  log?: (msg: string) => void;
}

export interface Decision {
  allow: boolean;
  source: "online" | "offline";
  reason: string;
  user_id?: string;
  /** On an online denial, the stable code to act on: missing_skills, unknown_badge, equipment_unavailable. */
  denial?: string;
}

export type RefreshResult = "updated" | "not_modified" | "offline" | "cut_off" | "invalid";

/** The service's UID form: upper-case hex without separators (`04:a2:…` → `04A2…`), or null. */
export function normaliseUid(raw: string): string | null {
  const hex = String(raw)
    .replace(/[\s:-]/g, "")
    .toUpperCase();
  return /^[0-9A-F]{4,64}$/.test(hex) ? hex : null;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `detail` of the API's error envelope, when the answer carries one. */
/** `detail` and `denial` of an error body, when it has them. */
async function errorFields(res: { json(): Promise<unknown> }): Promise<{ detail?: string; denial?: string }> {
  const body = await res.json().catch(() => null);
  if (typeof body !== "object" || body === null) return {};
  const { detail, denial } = body as Record<string, unknown>;
  return {
    ...(typeof detail === "string" ? { detail } : {}),
    ...(typeof denial === "string" ? { denial } : {}),
  };
}

const isSuccess = (status: number) => status >= 200 && status < 300;

export class Controller {
  readonly equipmentId: string;
  readonly deviceId: string;
  /** The last allow-list whose signature verified (the JWS payload, never the unsigned copy). */
  list: Allowlist | null = null;
  private readonly api: MakrcaveClient;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly now: () => number;
  private readonly firmware: string;
  private readonly log: (msg: string) => void;
  private timers: ReturnType<typeof setInterval>[] = [];

  constructor({ baseUrl, token, equipmentId, jwksUrl, now, timeoutMs = 3000, firmware, log }: ControllerConfig) {
    const sub = decodeJwt(token).sub;
    if (!sub) throw new Error("the device token names no device (no `sub`)");
    this.equipmentId = equipmentId;
    this.deviceId = sub;
    // Looked up at call time, so a test may replace the global fetch.
    const timed: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    this.api = makrcaveClient(baseUrl, { token, fetch: timed });
    this.jwks = createRemoteJWKSet(jwksUrl ? new URL(jwksUrl) : this.api[".well-known"]["jwks.json"].$url());
    this.now = now ?? (() => Date.now());
    this.firmware = firmware ?? "reference-controller/1";
    this.log = log ?? (() => {});
  }

  /** This controller's equipment as the client's path parameter (the client does not encode). */
  private get equipment() {
    return { equipment_id: encodeURIComponent(this.equipmentId) };
  }

  /** The server no longer accepts this device: forget everything it said (fail-secure). */
  private cutOff(status: number): void {
    this.list = null;
    this.log(`credential rejected (${status}); allow-list dropped`);
  }

  /**
   * Polls the allow-list. `If-None-Match` is sent only while the held list has more than half its
   * lifetime left, so a fresh signed `valid_until` is fetched well before the old one lapses
   * (a 304 cannot extend a signature).
   */
  async refresh(): Promise<RefreshResult> {
    const header: { "If-None-Match"?: string } = {};
    if (this.list) {
      const until = Date.parse(this.list.valid_until);
      const lifetime = until - Date.parse(this.list.generated_at);
      if (until - this.now() > lifetime / 2) header["If-None-Match"] = `"${this.list.version}"`;
    }
    const res = await this.api.api.v1.skills.access.equipment[":equipment_id"].allowlist
      .$get({ param: this.equipment, header })
      .catch(() => null);
    if (!res) return "offline";
    if (res.status === 304) return "not_modified";
    // The client's types hold the declared answers only; any route may also answer an error.
    const status: number = res.status;
    if (status === 401 || status === 403) {
      this.cutOff(status);
      return "cut_off";
    }
    if (!isSuccess(status)) return "offline";
    const { jws } = await res.json();
    try {
      const { payload } = await compactVerify(jws, this.jwks);
      // Signed by the service: the payload is its `Allowlist`.
      const list = JSON.parse(new TextDecoder().decode(payload)) as Allowlist;
      if (list.equipment_id !== this.equipmentId) throw new Error("list is for another equipment");
      if (Date.parse(list.valid_until) <= this.now()) throw new Error("list is already past valid_until");
      this.list = list;
      this.log(`allow-list ${list.version.slice(0, 12)} (${list.entries.length} entries, open=${list.open})`);
      return "updated";
    } catch (err) {
      this.log(`allow-list refused: ${err instanceof Error ? err.message : String(err)}`);
      return "invalid";
    }
  }

  /** Reports in; refreshes the list when the server's version differs from the one held. */
  async heartbeat() {
    const res = await this.api.api.v1.devices[":id"].heartbeat
      .$post({
        param: { id: encodeURIComponent(this.deviceId) },
        json: { firmware: this.firmware, ...(this.list ? { allowlist_version: this.list.version } : {}) },
      })
      .catch(() => null);
    if (!res) return null;
    const status: number = res.status;
    if (status === 401) {
      this.cutOff(status);
      return null;
    }
    if (!isSuccess(status)) return null;
    const body = await res.json();
    const current = body.allowlist_versions[this.equipmentId];
    if (current && current !== this.list?.version) await this.refresh();
    return body;
  }

  /**
   * "May badge X use this equipment?" Online through `verify` (strong, audited); when the
   * service cannot be reached (or fails), offline from the verified list — and also when the
   * device's badge budget is spent (429): a busy door keeps deciding from the list it holds.
   */
  async decide(badgeUid: string): Promise<Decision> {
    const uid = normaliseUid(badgeUid);
    if (uid === null) return { allow: false, source: "offline", reason: "Unreadable badge" };
    const res = await this.api.api.v1.skills.access.equipment[":equipment_id"].verify
      .$post({ param: this.equipment, json: { badge_uid: uid } })
      .catch(() => null);
    if (!res) return this.decideOffline(uid);
    const status: number = res.status;
    if (status >= 500 || status === 429) return this.decideOffline(uid);
    if (isSuccess(status)) {
      const body = await res.json();
      return { allow: true, source: "online", reason: body.reason, user_id: body.user_id };
    }
    if (status === 401) this.cutOff(status);
    const { detail, denial } = await errorFields(res);
    return { allow: false, source: "online", reason: detail ?? `HTTP ${status}`, ...(denial ? { denial } : {}) };
  }

  /** The offline answer: nothing without a list, nothing past `valid_until`, else the list's word. */
  async decideOffline(badgeUid: string): Promise<Decision> {
    const deny = (reason: string): Decision => ({ allow: false, source: "offline", reason });
    const uid = normaliseUid(badgeUid);
    if (uid === null) return deny("Unreadable badge");
    const list = this.list;
    if (!list) return deny("No verified allow-list");
    const now = this.now();
    if (now >= Date.parse(list.valid_until)) return deny("Allow-list expired");
    if (list.open) return { allow: true, source: "offline", reason: "Open equipment" };
    const hash = await sha256Hex(uid);
    const entry = list.entries.find((e) => e.badge_sha256.includes(hash));
    if (!entry) return deny("Not on the allow-list");
    if (entry.expires_at !== null && now >= Date.parse(entry.expires_at)) return deny("Certification expired");
    return { allow: true, source: "offline", reason: "On the allow-list", user_id: entry.user_id };
  }

  /** Polls the list and sends heartbeats until stop(). */
  start({ pollSeconds = 60, heartbeatSeconds = 60 } = {}): void {
    this.refresh();
    this.heartbeat();
    this.timers.push(setInterval(() => this.refresh(), pollSeconds * 1000));
    this.timers.push(setInterval(() => this.heartbeat(), heartbeatSeconds * 1000));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}

async function main(): Promise<void> {
  const { MAKRCAVE_URL, DEVICE_TOKEN, EQUIPMENT_ID, JWKS_URL, POLL_SECONDS, HEARTBEAT_SECONDS } = process.env;
  if (!MAKRCAVE_URL || !DEVICE_TOKEN || !EQUIPMENT_ID) {
    console.error(
      "MAKRCAVE_URL, DEVICE_TOKEN and EQUIPMENT_ID are required (also: JWKS_URL, POLL_SECONDS, HEARTBEAT_SECONDS)",
    );
    process.exit(2);
  }
  const controller = new Controller({
    baseUrl: MAKRCAVE_URL,
    token: DEVICE_TOKEN,
    equipmentId: EQUIPMENT_ID,
    ...(JWKS_URL ? { jwksUrl: JWKS_URL } : {}),
    log: (msg) => console.error(`[controller] ${msg}`),
  });
  controller.start({ pollSeconds: Number(POLL_SECONDS ?? 60), heartbeatSeconds: Number(HEARTBEAT_SECONDS ?? 60) });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const decision = await controller.decide(line.trim());
    console.log(JSON.stringify({ equipment_id: controller.equipmentId, ...decision }));
  }
  controller.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
