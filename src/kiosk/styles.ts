/**
 * The kiosk's stylesheet. Sizes scale with the viewport (clamp on vmin) so the page reads at arm's
 * length on a 1080×1920 portrait screen and a 1920×1080 landscape one alike; every touch target
 * is at least 64 px high.
 */
export const KIOSK_CSS = `
:root{--bg:#0f172a;--panel:#1e293b;--line:#334155;--text:#f8fafc;--muted:#cbd5e1;--ok:#16a34a;--okbg:#052e16;
--warn:#f59e0b;--warnbg:#422006;--bad:#ef4444;--badbg:#450a0a;--grey:#64748b;--accent:#38bdf8;
--fs:clamp(22px,2.9vmin,40px);--fs-big:clamp(40px,6.5vmin,104px);--gap:clamp(12px,1.6vmin,28px)}
*{box-sizing:border-box}
html,body{margin:0;height:100%;background:var(--bg);color:var(--text);font:var(--fs)/1.35 system-ui,"Segoe UI",Roboto,sans-serif}
body{display:flex;flex-direction:column;user-select:none;-webkit-user-select:none}
button,input,textarea{font:inherit;color:inherit}
button{min-height:64px;padding:.4em 1em;border-radius:14px;border:2px solid var(--accent);background:#0c4a6e;cursor:pointer;touch-action:manipulation}
button:active{transform:scale(.98)}
button.plain{background:transparent;border-color:var(--line)}
button:disabled{opacity:.6;cursor:default}
input,textarea{background:#020617;border:2px solid var(--line);border-radius:12px;padding:.5em .7em;width:100%;user-select:text;-webkit-user-select:text}
input:focus,textarea:focus{outline:3px solid var(--accent);outline-offset:2px}
[hidden]{display:none!important}
.screen{flex:1;display:flex;flex-direction:column;padding:var(--gap);gap:var(--gap);min-height:0}
.center{align-items:center;justify-content:center;text-align:center}
h1{font-size:var(--fs-big);margin:0;line-height:1.1}
h2{font-size:calc(var(--fs)*1.3);margin:.2em 0}
.hint{color:var(--muted)}
.banner{border-radius:14px;padding:.7em 1em;font-weight:600;max-width:60ch}
.banner.error{background:var(--badbg);border:2px solid var(--bad)}
.banner.info{background:#082f49;border:2px solid var(--accent)}
.tap{width:min(80vmin,900px);display:flex;flex-direction:column;gap:var(--gap);align-items:stretch}
.tap .reader{font-size:calc(var(--fs)*1.2);text-align:center;letter-spacing:.1em;min-height:72px}
.reader.masked{color:transparent;caret-color:transparent}
.reader.masked::placeholder{color:var(--muted)}
.badge-icon{width:clamp(120px,22vmin,300px);height:clamp(120px,22vmin,300px);border-radius:50%;border:6px solid var(--accent);
display:flex;align-items:center;justify-content:center;animation:pulse 2.4s ease-in-out infinite;align-self:center}
.badge-icon svg{width:55%;height:55%}
@keyframes pulse{50%{box-shadow:0 0 0 24px rgba(56,189,248,.15)}}
.setup{width:min(90vw,900px);display:flex;flex-direction:column;gap:var(--gap)}
.setup textarea{min-height:8em;font-family:ui-monospace,monospace;font-size:calc(var(--fs)*.7)}
.topbar{display:flex;align-items:center;justify-content:space-between;gap:var(--gap);flex-wrap:wrap}
.topbar .who{font-size:calc(var(--fs)*1.4);font-weight:700;overflow-wrap:anywhere}
.countdown{color:var(--muted)}
.countdown.soon{color:var(--warn);font-weight:700}
.scroll{flex:1;overflow-y:auto;min-height:0;display:flex;flex-direction:column;gap:var(--gap);padding-bottom:var(--gap)}
.certs,.tiles{display:grid;gap:var(--gap);grid-template-columns:repeat(auto-fill,minmax(min(100%,420px),1fr))}
.card{background:var(--panel);border:2px solid var(--line);border-radius:16px;padding:.7em .9em;display:flex;flex-direction:column;gap:.35em}
.card .name{font-weight:700;font-size:calc(var(--fs)*1.1);overflow-wrap:anywhere}
.pill{display:inline-block;border-radius:999px;padding:.1em .7em;font-weight:700;font-size:.85em;align-self:flex-start}
.pill.certified{background:var(--ok)}.pill.expired,.pill.revoked{background:var(--bad)}.pill.pending{background:var(--grey)}
.card.expiring{border-color:var(--warn);background:var(--warnbg)}
.card.expiring .when{color:var(--warn);font-weight:700}
.tile.ok{border-color:var(--ok);background:var(--okbg)}
.tile.no{border-color:var(--bad)}
.tile.maintenance{border-color:var(--grey);background:#1f2937}
.verdict{font-weight:700}
.tile.ok .verdict{color:#4ade80}.tile.no .verdict{color:#fca5a5}.tile.maintenance .verdict{color:var(--muted)}
.missing{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:.5em}
.missing li{display:flex;align-items:center;justify-content:space-between;gap:.6em;flex-wrap:wrap}
.missing .skill{overflow-wrap:anywhere}
.status-pending{color:var(--warn);font-weight:700;min-height:64px;display:flex;align-items:center}
.empty{color:var(--muted)}
.instructor{margin:0;color:var(--accent);font-weight:700;overflow-wrap:anywhere}
.corner{position:fixed;right:8px;bottom:6px;font-size:14px;color:var(--grey)}
@media (orientation:portrait){.tiles,.certs{grid-template-columns:repeat(auto-fill,minmax(min(100%,460px),1fr))}}
`;
