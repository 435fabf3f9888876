import { KIOSK_RENDER_SCRIPT } from "./render-script";

/**
 * The kiosk's browser code: token setup, the idle screen, member lookup, training requests and the
 * idle reset. Plain ES2020 in a string (no build step, no framework). Member data lives only in
 * `member` and in the member view; `clearMember` drops both, every storage key but the token and
 * the resource-timing entries (their URLs carry the user id). `generation` rises on every reset,
 * so an answer that arrives after one is dropped instead of painting a departed member back.
 * Text reaches the DOM through textContent only.
 */
const CORE = `
const TOKEN_KEY = "makrcave-kiosk-token";
const API = "/api/v1";
const idleSeconds = Math.max(1, Number(document.body.dataset.idle) || 60);
const $ = (id) => document.getElementById(id);
let generation = 0;
let member = null;
let busy = false;
let mode = "badge";
let idleTimer = null;
let tickTimer = null;
let deadline = 0;
let keyBuffer = "";

class KioskError extends Error {
  constructor(kind, status, body) { super(kind); this.kind = kind; this.status = status || 0; this.body = body || null; }
}

function token() { return localStorage.getItem(TOKEN_KEY); }

async function api(method, path, body) {
  const headers = { authorization: "Bearer " + token() };
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(API + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store", credentials: "omit",
    });
  } catch {
    throw new KioskError("network");
  }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (res.status === 401) throw new KioskError("token", 401, data);
  if (!res.ok) throw new KioskError("http", res.status, data);
  return data;
}

function errorType(err) { return err instanceof KioskError && err.body ? err.body.error_type : undefined; }

function explain(err) {
  if (!(err instanceof KioskError)) return "Something went wrong on this screen. Please try again.";
  if (err.kind === "network") return "We can't reach the server right now. Please try again in a moment, or tell a staff member.";
  if (err.kind === "token") return "This kiosk's access token is no longer accepted (it expired or was revoked). An admin needs to enter a new one.";
  const type = errorType(err);
  if (type === "badge_not_found") return "We don't recognise this badge. Ask a staff member to register it.";
  if (type === "validation_error") return mode === "badge"
    ? "That badge could not be read. Please hold it to the reader again."
    : "That doesn't look like a member id. Please check it and try again.";
  if (err.status === 403) return "This kiosk isn't allowed to do that. An admin should check the kiosk's token.";
  if (err.status >= 500) return "The server had a problem. Please try again in a moment.";
  return "That didn't work (error " + err.status + "). Please try again.";
}

function show(id) { for (const s of ["setup", "idle", "member"]) $(s).hidden = s !== id; }
function banner(el, text) { el.textContent = text || ""; el.hidden = !text; }

function clearMember() {
  member = null;
  keyBuffer = "";
  clearTimeout(idleTimer);
  clearInterval(tickTimer);
  idleTimer = null;
  tickTimer = null;
  $("member-body").replaceChildren();
  $("member-who").textContent = "";
  $("countdown").textContent = "";
  banner($("member-error"), "");
  $("select-input").value = "";
  sessionStorage.clear();
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const key = localStorage.key(i);
    if (key !== TOKEN_KEY) localStorage.removeItem(key);
  }
  if (performance.clearResourceTimings) performance.clearResourceTimings();
}

function setMode(next) {
  mode = next;
  const input = $("select-input");
  input.value = "";
  input.classList.toggle("masked", mode === "badge");
  input.placeholder = mode === "badge" ? "Waiting for your badge…" : "Your member id, then Enter";
  input.inputMode = mode === "badge" ? "none" : "text";
  $("idle-title").textContent = mode === "badge" ? "Tap your badge" : "Type your member id";
  $("idle-hint").textContent = mode === "badge" ? "Hold your badge to the reader." : "Then press Enter.";
  $("mode-toggle").textContent = mode === "badge" ? "Type my member id instead" : "Use my badge instead";
}

function focusReader() { if (!$("idle").hidden) $("select-input").focus({ preventScroll: true }); }

function goIdle(message) {
  generation++;
  busy = false;
  clearMember();
  setMode("badge");
  show("idle");
  $("idle-busy").hidden = true;
  banner($("idle-error"), message);
  if (message) armIdle();
  focusReader();
}

function showSetup(message) {
  generation++;
  clearMember();
  show("setup");
  banner($("setup-error"), message);
  $("setup-token").focus();
}

function decodeClaims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

async function saveToken() {
  const value = $("setup-token").value.trim();
  const claims = decodeClaims(value);
  if (!claims) return banner($("setup-error"), "That is not a token. Paste the whole token: three parts separated by dots.");
  if (claims.role !== "device" || claims.device_kind !== "kiosk") {
    return banner($("setup-error"), "This is not a kiosk device token. Register a device of kind 'kiosk' and paste its token.");
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
    return banner($("setup-error"), "This token has expired. Rotate the device's token and paste the new one.");
  }
  localStorage.setItem(TOKEN_KEY, value);
  $("setup-save").disabled = true;
  try {
    await api("GET", "/skills/equipment-requirements");
  } catch (err) {
    localStorage.removeItem(TOKEN_KEY);
    return banner($("setup-error"), err.kind === "token" ? "The server did not accept this token." : explain(err));
  } finally {
    $("setup-save").disabled = false;
  }
  $("setup-token").value = "";
  goIdle();
}

function fail(err, where) {
  if (err instanceof KioskError && err.kind === "token") {
    localStorage.removeItem(TOKEN_KEY);
    return showSetup(explain(err));
  }
  if (where === "member") return banner($("member-error"), explain(err));
  goIdle(explain(err));
}

function armIdle() {
  clearTimeout(idleTimer);
  deadline = Date.now() + idleSeconds * 1000;
  idleTimer = setTimeout(onIdle, idleSeconds * 1000);
  tick();
}

function onIdle() {
  if (!$("setup").hidden) return;
  if (busy) return armIdle();
  goIdle();
}

function tick() {
  const el = $("countdown");
  if ($("member").hidden) return;
  const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  const soon = left <= Math.min(10, Math.floor(idleSeconds / 3));
  el.textContent = (soon ? "Still there? Touch the screen. " : "") + "Closing in " + left + " s";
  el.classList.toggle("soon", soon);
}

async function listMaintenance() {
  const ids = new Set();
  for (let offset = 0; ; offset += 200) {
    const page = await api("GET", "/equipment?status=maintenance&limit=200&offset=" + offset);
    for (const e of page) ids.add(e.id);
    if (page.length < 200) return ids;
  }
}

async function loadMember(userId) {
  const q = "user_id=" + encodeURIComponent(userId);
  const [certs, access, pending, maintenance, requirements] = await Promise.all([
    api("GET", "/skills/user-skills?" + q + "&limit=200"),
    api("GET", "/skills/access/equipment?" + q + "&consistency=strong"),
    api("GET", "/skills/requests?" + q + "&status=pending&limit=200"),
    listMaintenance(),
    api("GET", "/skills/equipment-requirements"),
  ]);
  const skillIds = new Map();
  for (const item of requirements) for (const s of item.required_skills) skillIds.set(s.skill_name, s.skill_id);
  return {
    userId, certs, access: access.equipment_access, summary: access.summary,
    pending: new Set(pending.map((r) => r.skill_id)), maintenance, skillIds,
  };
}

async function select(raw) {
  const value = String(raw || "").trim();
  $("select-input").value = "";
  if (!value || busy) return;
  const gen = ++generation;
  busy = true;
  banner($("idle-error"), "");
  $("idle-busy").hidden = false;
  try {
    const userId = mode === "badge" ? (await api("POST", "/badges/resolve", { badge_uid: value })).user_id : value;
    const loaded = await loadMember(userId);
    if (gen !== generation) return;
    member = loaded;
    renderMember();
    show("member");
    clearInterval(tickTimer);
    tickTimer = setInterval(tick, 1000);
    armIdle();
  } catch (err) {
    if (gen === generation) fail(err, "idle");
  } finally {
    if (gen === generation) {
      busy = false;
      $("idle-busy").hidden = true;
    }
  }
}

async function requestTraining(skillId, button) {
  const gen = generation;
  button.disabled = true;
  button.textContent = "Sending…";
  try {
    const created = await api("POST", "/skills/requests", { skill_id: skillId, user_id: member.userId });
    if (gen !== generation || !member) return;
    if (created.status === "pending") return markPending(skillId);
    await refreshMember(gen);
  } catch (err) {
    if (gen !== generation || !member) return;
    const type = errorType(err);
    if (type === "request_conflict") return markPending(skillId);
    if (type === "already_certified") return refreshMember(gen);
    button.disabled = false;
    button.textContent = "Request training";
    fail(err, "member");
  }
}

async function refreshMember(gen) {
  try {
    const loaded = await loadMember(member.userId);
    if (gen !== generation) return;
    member = loaded;
    renderMember();
  } catch (err) {
    if (gen === generation) fail(err, "member");
  }
}

$("setup-form").addEventListener("submit", (e) => { e.preventDefault(); saveToken(); });
$("setup-save").addEventListener("click", saveToken);
$("select-form").addEventListener("submit", (e) => { e.preventDefault(); select($("select-input").value); });
$("mode-toggle").addEventListener("click", () => { setMode(mode === "badge" ? "member" : "badge"); focusReader(); });
$("done").addEventListener("click", () => goIdle());
$("member-body").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-skill-id]");
  if (button && member) requestTraining(button.dataset.skillId, button);
});
$("select-input").addEventListener("blur", () => setTimeout(() => { if (mode === "badge") focusReader(); }, 50));
for (const type of ["pointerdown", "keydown", "wheel", "touchmove"]) {
  document.addEventListener(type, () => { if ($("setup").hidden && (member || !$("idle").hidden)) armIdle(); }, { capture: true, passive: true });
}
document.addEventListener("keydown", (e) => {
  if ($("member").hidden) return;
  if (e.key === "Enter") {
    const uid = keyBuffer;
    keyBuffer = "";
    if (uid.length >= 4) { goIdle(); select(uid); }
  } else if (e.key.length === 1) {
    keyBuffer = (keyBuffer + e.key).slice(-80);
  }
});
`;

/** The whole script, one closure so nothing leaks onto `window`. */
export const KIOSK_SCRIPT = `"use strict";(() => {${CORE}${KIOSK_RENDER_SCRIPT}
if (!token() || document.body.dataset.setup === "1") showSetup(); else goIdle();
})();`;
