function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`the page has no #${id}`);
  return node;
}

/** The page's fixed elements (src/kiosk/page.ts), looked up once: the markup never changes. */
export const ui = {
  setup: byId("setup", HTMLElement),
  setupForm: byId("setup-form", HTMLFormElement),
  setupToken: byId("setup-token", HTMLTextAreaElement),
  setupError: byId("setup-error", HTMLElement),
  setupSave: byId("setup-save", HTMLButtonElement),
  idle: byId("idle", HTMLElement),
  idleTitle: byId("idle-title", HTMLElement),
  idleHint: byId("idle-hint", HTMLElement),
  selectForm: byId("select-form", HTMLFormElement),
  selectInput: byId("select-input", HTMLInputElement),
  idleError: byId("idle-error", HTMLElement),
  idleBusy: byId("idle-busy", HTMLElement),
  modeToggle: byId("mode-toggle", HTMLButtonElement),
  member: byId("member", HTMLElement),
  memberWho: byId("member-who", HTMLElement),
  countdown: byId("countdown", HTMLElement),
  done: byId("done", HTMLButtonElement),
  memberError: byId("member-error", HTMLElement),
  memberBody: byId("member-body", HTMLElement),
};

export type Screen = "setup" | "idle" | "member";

export function show(screen: Screen): void {
  for (const s of ["setup", "idle", "member"] as const) ui[s].hidden = s !== screen;
}

/** Shows `text` in a banner, or hides it when there is none. */
export function banner(node: HTMLElement, text?: string): void {
  node.textContent = text || "";
  node.hidden = !text;
}

/** A new element; text only ever through textContent, so names typed by admins never become markup. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
