import { KIOSK_SCRIPT } from "./bundle.generated";
import { KIOSK_CSS } from "./styles";

/**
 * The kiosk page: one document, inline CSS and JS tagged with a per-response nonce, so the
 * Content-Security-Policy can forbid every other script, style and origin. The JS is the bundle of
 * src/kiosk/browser/ (scripts/build-kiosk.mjs). Nothing member-specific is rendered here: the
 * script fills the member view from the API and empties it again on the idle reset.
 */
export function kioskPage(nonce: string, idleSeconds: number, setup: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,maximum-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>MakrCave kiosk</title>
<style nonce="${nonce}">${KIOSK_CSS}</style></head>
<body data-idle="${idleSeconds}"${setup ? ' data-setup="1"' : ""}>
<section id="setup" class="screen center" hidden>
  <div class="setup">
    <h1>Set up this kiosk</h1>
    <p class="hint">An admin pastes the kiosk's device token (from <code>POST /api/v1/devices</code> with
    <code>kind: "kiosk"</code>). It stays in this browser only.</p>
    <form id="setup-form" autocomplete="off">
      <textarea id="setup-token" aria-label="Kiosk device token" spellcheck="false" autocomplete="off"
        placeholder="eyJhbGciOi…"></textarea>
    </form>
    <div id="setup-error" class="banner error" role="alert" hidden></div>
    <button id="setup-save" type="button">Save token</button>
  </div>
</section>
<section id="idle" class="screen center" hidden>
  <div class="tap">
    <div class="badge-icon" aria-hidden="true"><svg viewBox="0 0 48 48" fill="none" stroke="#38bdf8" stroke-width="3"
      stroke-linecap="round"><rect x="6" y="12" width="26" height="30" rx="4"/><path d="M12 20h14M12 27h9"/>
      <path d="M36 14a10 10 0 0 1 0 20M40 8a18 18 0 0 1 0 32"/></svg></div>
    <h1 id="idle-title">Tap your badge</h1>
    <p id="idle-hint" class="hint">Hold your badge to the reader.</p>
    <form id="select-form" autocomplete="off">
      <input id="select-input" class="reader" aria-label="Badge or member id" autocomplete="off"
        autocapitalize="off" spellcheck="false" enterkeyhint="go">
    </form>
    <div id="idle-error" class="banner error" role="alert" hidden></div>
    <div id="idle-busy" class="banner info" role="status" hidden>Looking you up…</div>
    <button id="mode-toggle" class="plain" type="button">Type my member id instead</button>
  </div>
</section>
<section id="member" class="screen" hidden>
  <div class="topbar">
    <div class="who" id="member-who"></div>
    <div class="countdown" id="countdown" aria-live="polite"></div>
    <button id="done" type="button">Done</button>
  </div>
  <div id="member-error" class="banner error" role="alert" hidden></div>
  <div class="scroll" id="member-body"></div>
</section>
<div class="corner">MakrCave kiosk</div>
<script nonce="${nonce}">${KIOSK_SCRIPT}</script>
</body></html>`;
}

/**
 * Only this document's nonce-tagged script and style run; the page talks to its own origin only
 * and may not be framed (a framed kiosk could be overlaid to capture badge UIDs).
 */
export function kioskCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}
