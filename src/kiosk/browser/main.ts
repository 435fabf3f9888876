/**
 * The kiosk's browser code: token setup, the idle screen, member lookup, training requests and the
 * idle reset. Member data lives only in `member` and in the member view; `clearMember` drops both,
 * every storage key but the token and the resource-timing entries (their URLs carry the user id).
 * `generation` rises on every reset, so an answer that arrives after one is dropped instead of
 * painting a departed member back. Bundled by scripts/build-kiosk.mjs into one closure, so nothing
 * leaks onto `window`.
 */
import { checkToken, errorType, KioskError, loadMember, type Member, requestTraining, resolveBadge } from "./api";
import { explain, type Mode } from "./messages";
import { markPending, renderMember } from "./render";
import { storedToken, TOKEN_KEY, tokenProblem } from "./token";
import { banner, show, ui } from "./ui";

const idleSeconds = Math.max(1, Number(document.body.dataset.idle) || 60);
let generation = 0;
let member: Member | null = null;
let busy = false;
let mode: Mode = "badge";
let idleTimer: ReturnType<typeof setTimeout> | undefined;
let tickTimer: ReturnType<typeof setInterval> | undefined;
let deadline = 0;
let keyBuffer = "";

function clearMember(): void {
  member = null;
  keyBuffer = "";
  clearTimeout(idleTimer);
  clearInterval(tickTimer);
  idleTimer = undefined;
  tickTimer = undefined;
  ui.memberBody.replaceChildren();
  ui.memberWho.textContent = "";
  ui.countdown.textContent = "";
  banner(ui.memberError, "");
  ui.selectInput.value = "";
  sessionStorage.clear();
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const key = localStorage.key(i);
    if (key !== null && key !== TOKEN_KEY) localStorage.removeItem(key);
  }
  performance.clearResourceTimings?.();
}

function setMode(next: Mode): void {
  mode = next;
  const badge = mode === "badge";
  ui.selectInput.value = "";
  ui.selectInput.classList.toggle("masked", badge);
  ui.selectInput.placeholder = badge ? "Waiting for your badge…" : "Your member id, then Enter";
  ui.selectInput.inputMode = badge ? "none" : "text";
  ui.idleTitle.textContent = badge ? "Tap your badge" : "Type your member id";
  ui.idleHint.textContent = badge ? "Hold your badge to the reader." : "Then press Enter.";
  ui.modeToggle.textContent = badge ? "Type my member id instead" : "Use my badge instead";
}

function focusReader(): void {
  if (!ui.idle.hidden) ui.selectInput.focus({ preventScroll: true });
}

function goIdle(message?: string): void {
  generation++;
  busy = false;
  clearMember();
  setMode("badge");
  show("idle");
  ui.idleBusy.hidden = true;
  banner(ui.idleError, message);
  if (message) armIdle();
  focusReader();
}

function showSetup(message?: string): void {
  generation++;
  clearMember();
  show("setup");
  banner(ui.setupError, message);
  ui.setupToken.focus();
}

async function saveToken(): Promise<void> {
  const value = ui.setupToken.value.trim();
  const problem = tokenProblem(value, Date.now());
  if (problem) return banner(ui.setupError, problem);
  localStorage.setItem(TOKEN_KEY, value);
  ui.setupSave.disabled = true;
  try {
    await checkToken();
  } catch (err) {
    localStorage.removeItem(TOKEN_KEY);
    const refused = err instanceof KioskError && err.kind === "token";
    return banner(ui.setupError, refused ? "The server did not accept this token." : explain(err, mode));
  } finally {
    ui.setupSave.disabled = false;
  }
  ui.setupToken.value = "";
  goIdle();
}

function fail(err: unknown, where: "idle" | "member"): void {
  if (err instanceof KioskError && err.kind === "token") {
    localStorage.removeItem(TOKEN_KEY);
    showSetup(explain(err, mode));
  } else if (where === "member") {
    banner(ui.memberError, explain(err, mode));
  } else {
    goIdle(explain(err, mode));
  }
}

function armIdle(): void {
  clearTimeout(idleTimer);
  deadline = Date.now() + idleSeconds * 1000;
  idleTimer = setTimeout(onIdle, idleSeconds * 1000);
  tick();
}

function onIdle(): void {
  if (!ui.setup.hidden) return;
  if (busy) armIdle();
  else goIdle();
}

function tick(): void {
  if (ui.member.hidden) return;
  const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  const soon = left <= Math.min(10, Math.floor(idleSeconds / 3));
  ui.countdown.textContent = `${soon ? "Still there? Touch the screen. " : ""}Closing in ${left} s`;
  ui.countdown.classList.toggle("soon", soon);
}

async function select(raw: string): Promise<void> {
  const value = raw.trim();
  ui.selectInput.value = "";
  if (!value || busy) return;
  const gen = ++generation;
  busy = true;
  banner(ui.idleError, "");
  ui.idleBusy.hidden = false;
  try {
    const userId = mode === "badge" ? await resolveBadge(value) : value;
    const loaded = await loadMember(userId);
    if (gen !== generation) return;
    member = loaded;
    renderMember(loaded);
    show("member");
    clearInterval(tickTimer);
    tickTimer = setInterval(tick, 1000);
    armIdle();
  } catch (err) {
    if (gen === generation) fail(err, "idle");
  } finally {
    if (gen === generation) {
      busy = false;
      ui.idleBusy.hidden = true;
    }
  }
}

async function refreshMember(gen: number, userId: string): Promise<void> {
  try {
    const loaded = await loadMember(userId);
    if (gen !== generation) return;
    member = loaded;
    renderMember(loaded);
  } catch (err) {
    if (gen === generation) fail(err, "member");
  }
}

async function askForTraining(current: Member, skillId: string, button: HTMLButtonElement): Promise<void> {
  const gen = generation;
  button.disabled = true;
  button.textContent = "Sending…";
  try {
    const created = await requestTraining(current.userId, skillId);
    if (gen !== generation || !member) return;
    if (created.status === "pending") return markPending(member, skillId);
    await refreshMember(gen, member.userId);
  } catch (err) {
    if (gen !== generation || !member) return;
    const type = errorType(err);
    if (type === "request_conflict") return markPending(member, skillId);
    if (type === "already_certified") return refreshMember(gen, member.userId);
    button.disabled = false;
    button.textContent = "Request training";
    fail(err, "member");
  }
}

ui.setupForm.addEventListener("submit", (e) => {
  e.preventDefault();
  saveToken();
});
ui.setupSave.addEventListener("click", saveToken);
// A token never holds a line break: Enter saves, as the button does.
ui.setupToken.addEventListener("keydown", (e) => {
  if (e.key !== "Enter" || e.isComposing) return;
  e.preventDefault();
  if (!ui.setupSave.disabled) saveToken();
});
ui.selectForm.addEventListener("submit", (e) => {
  e.preventDefault();
  select(ui.selectInput.value);
});
ui.modeToggle.addEventListener("click", () => {
  setMode(mode === "badge" ? "member" : "badge");
  focusReader();
});
ui.done.addEventListener("click", () => goIdle());
ui.memberBody.addEventListener("click", (e) => {
  const button = e.target instanceof Element ? e.target.closest<HTMLButtonElement>("button[data-skill-id]") : null;
  const skillId = button?.dataset.skillId;
  if (button && skillId && member) askForTraining(member, skillId, button);
});
ui.selectInput.addEventListener("blur", () =>
  setTimeout(() => {
    if (mode === "badge") focusReader();
  }, 50),
);
for (const type of ["pointerdown", "keydown", "wheel", "touchmove"]) {
  document.addEventListener(
    type,
    () => {
      if (ui.setup.hidden && (member || !ui.idle.hidden)) armIdle();
    },
    { capture: true, passive: true },
  );
}
// On the member view a badge reader types into no field: its keys are collected here.
document.addEventListener("keydown", (e) => {
  if (ui.member.hidden) return;
  if (e.key === "Enter") {
    const uid = keyBuffer;
    keyBuffer = "";
    if (uid.length >= 4) {
      goIdle();
      select(uid);
    }
  } else if (e.key.length === 1) {
    keyBuffer = (keyBuffer + e.key).slice(-80);
  }
});

if (!storedToken() || document.body.dataset.setup === "1") showSetup();
else goIdle();
