#!/usr/bin/env node
// Reference door/machine controller for the MakrCave Skills API (API.md sections 8 and 9).
// Online it asks `verify`; offline it answers from the last signed allow-list it verified, and
// once that list is past `valid_until` it refuses everyone (fail-secure). Only dependency: jose.
//
//   MAKRCAVE_URL=https://skills.example.org DEVICE_TOKEN=eyJ… EQUIPMENT_ID=eq-laser-001 \
//     node examples/controller/controller.mjs      # then type (or let a USB reader type) badge UIDs
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { compactVerify, createRemoteJWKSet, decodeJwt } from "jose";

/** The service's UID form: upper-case hex without separators (`04:a2:…` → `04A2…`), or null. */
export function normaliseUid(raw) {
  const hex = String(raw)
    .replace(/[\s:-]/g, "")
    .toUpperCase();
  return /^[0-9A-F]{4,64}$/.test(hex) ? hex : null;
}

export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Controller {
  /**
   * @param {{ baseUrl: string, token: string, equipmentId: string, jwksUrl?: string,
   *   now?: () => number, timeoutMs?: number, firmware?: string, log?: (msg: string) => void }} config
   */
  constructor({ baseUrl, token, equipmentId, jwksUrl, now = () => Date.now(), timeoutMs = 3000, firmware, log }) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.token = token;
    this.equipmentId = equipmentId;
    this.deviceId = decodeJwt(token).sub;
    this.jwks = createRemoteJWKSet(new URL(jwksUrl ?? `${this.baseUrl}/.well-known/jwks.json`));
    this.now = now;
    this.timeoutMs = timeoutMs;
    this.firmware = firmware ?? "reference-controller/1";
    this.log = log ?? (() => {});
    /** The last allow-list whose signature verified (the JWS payload, never the unsigned copy). */
    this.list = null;
    this.timers = [];
  }

  async request(method, path, { body, headers = {} } = {}) {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
  }

  /** The server no longer accepts this device: forget everything it said (fail-secure). */
  cutOff(status) {
    this.list = null;
    this.log(`credential rejected (${status}); allow-list dropped`);
  }

  /**
   * Polls the allow-list. `If-None-Match` is sent only while the held list has more than half its
   * lifetime left, so a fresh signed `valid_until` is fetched well before the old one lapses
   * (a 304 cannot extend a signature). Returns what happened.
   * @returns {Promise<"updated" | "not_modified" | "offline" | "cut_off" | "invalid">}
   */
  async refresh() {
    const headers = {};
    if (this.list) {
      const until = Date.parse(this.list.valid_until);
      const lifetime = until - Date.parse(this.list.generated_at);
      if (until - this.now() > lifetime / 2) headers["if-none-match"] = `"${this.list.version}"`;
    }
    let res;
    try {
      res = await this.request(
        "GET",
        `/api/v1/skills/access/equipment/${encodeURIComponent(this.equipmentId)}/allowlist`,
        {
          headers,
        },
      );
    } catch {
      return "offline";
    }
    if (res.status === 304) return "not_modified";
    if (res.status === 401 || res.status === 403) {
      this.cutOff(res.status);
      return "cut_off";
    }
    if (!res.ok) return "offline";
    const { jws } = await res.json();
    try {
      const { payload } = await compactVerify(jws, this.jwks);
      const list = JSON.parse(new TextDecoder().decode(payload));
      if (list.equipment_id !== this.equipmentId) throw new Error("list is for another equipment");
      if (Date.parse(list.valid_until) <= this.now()) throw new Error("list is already past valid_until");
      this.list = list;
      this.log(`allow-list ${list.version.slice(0, 12)} (${list.entries.length} entries, open=${list.open})`);
      return "updated";
    } catch (err) {
      this.log(`allow-list refused: ${err.message}`);
      return "invalid";
    }
  }

  /** Reports in; refreshes the list when the server's version differs from the one held. */
  async heartbeat() {
    let res;
    try {
      res = await this.request("POST", `/api/v1/devices/${encodeURIComponent(this.deviceId)}/heartbeat`, {
        body: { firmware: this.firmware, ...(this.list ? { allowlist_version: this.list.version } : {}) },
      });
    } catch {
      return null;
    }
    if (res.status === 401) {
      this.cutOff(res.status);
      return null;
    }
    if (!res.ok) return null;
    const body = await res.json();
    const current = body.allowlist_versions?.[this.equipmentId];
    if (current && current !== this.list?.version) await this.refresh();
    return body;
  }

  /**
   * "May badge X use this equipment?" Online through `verify` (strong, audited); when the
   * service cannot be reached (or fails), offline from the verified list.
   * @returns {Promise<{ allow: boolean, source: "online" | "offline", reason: string, user_id?: string, denial?: string }>}
   */
  async decide(badgeUid) {
    const uid = normaliseUid(badgeUid);
    if (uid === null) return { allow: false, source: "offline", reason: "Unreadable badge" };
    let res;
    try {
      res = await this.request(
        "POST",
        `/api/v1/skills/access/equipment/${encodeURIComponent(this.equipmentId)}/verify`,
        {
          body: { badge_uid: uid },
        },
      );
    } catch {
      return this.decideOffline(uid);
    }
    if (res.status >= 500) return this.decideOffline(uid);
    const body = await res.json().catch(() => ({}));
    if (res.ok) return { allow: true, source: "online", reason: body.reason, user_id: body.user_id };
    if (res.status === 401) this.cutOff(res.status);
    // `denial` is the stable code to act on (missing_skills, unknown_badge, equipment_unavailable).
    const denial = typeof body.denial === "string" ? { denial: body.denial } : {};
    return { allow: false, source: "online", reason: body.detail ?? `HTTP ${res.status}`, ...denial };
  }

  /** The offline answer: nothing without a list, nothing past `valid_until`, else the list's word. */
  async decideOffline(badgeUid) {
    const deny = (reason) => ({ allow: false, source: "offline", reason });
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
  start({ pollSeconds = 60, heartbeatSeconds = 60 } = {}) {
    this.refresh();
    this.heartbeat();
    this.timers.push(setInterval(() => this.refresh(), pollSeconds * 1000));
    this.timers.push(setInterval(() => this.heartbeat(), heartbeatSeconds * 1000));
  }

  stop() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}

async function main() {
  const env = process.env;
  for (const name of ["MAKRCAVE_URL", "DEVICE_TOKEN", "EQUIPMENT_ID"]) {
    if (!env[name]) {
      console.error(`${name} is required (also: JWKS_URL, POLL_SECONDS, HEARTBEAT_SECONDS)`);
      process.exit(2);
    }
  }
  const controller = new Controller({
    baseUrl: env.MAKRCAVE_URL,
    token: env.DEVICE_TOKEN,
    equipmentId: env.EQUIPMENT_ID,
    jwksUrl: env.JWKS_URL,
    log: (msg) => console.error(`[controller] ${msg}`),
  });
  controller.start({
    pollSeconds: Number(env.POLL_SECONDS ?? 60),
    heartbeatSeconds: Number(env.HEARTBEAT_SECONDS ?? 60),
  });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const decision = await controller.decide(line.trim());
    console.log(JSON.stringify({ equipment_id: controller.equipmentId, ...decision }));
  }
  controller.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
