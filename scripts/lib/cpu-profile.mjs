// CPU profiles of the Worker over the Chrome DevTools Protocol (Miniflare's inspector port), and
// a summary of where the samples fell: by function and by source (this project's files, or the
// package), mapped through the bundle's source map.
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";

/** A CDP session with the Worker named `worker` behind Miniflare's inspector on `port`. */
export async function connectInspector(port, worker) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl.endsWith(`/${worker}`)) ?? targets[0];
  if (!target) throw new Error(`no inspector target on port ${port}`);
  // Miniflare's proxy accepts local DevTools clients by their Origin.
  const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { origin: "http://127.0.0.1" } });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("inspector connection failed")), { once: true });
  });
  let nextId = 0;
  const waiting = new Map();
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(String(event.data));
    const pending = msg.id !== undefined ? waiting.get(msg.id) : undefined;
    if (!pending) return;
    waiting.delete(msg.id);
    if (msg.error) pending.reject(new Error(`${pending.method}: ${msg.error.message}`));
    else pending.resolve(msg.result);
  });
  return {
    send(method, params = {}) {
      const id = ++nextId;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => waiting.set(id, { resolve, reject, method }));
    },
    close: () => ws.close(),
  };
}

const META = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/**
 * Where a position came from: for the bundle, `src/…` (this project) or the package name (a
 * dependency), through its source map; else the runtime's own script (`cloudflare-internal:d1-api`,
 * the binding wrappers) or `(native)` for a builtin such as `fetch`.
 */
function origin(map, frame, bundle) {
  if (!frame.url) return { source: "(native)", line: 0 };
  if (!frame.url.endsWith(bundle) || !map) return { source: frame.url, line: frame.lineNumber + 1 };
  const entry = map.findEntry(frame.lineNumber, frame.columnNumber);
  const file = entry?.originalSource;
  if (!file) return { source: "(bundle)", line: frame.lineNumber + 1 };
  const nm = file.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const parts = file.slice(nm + 13).split("/");
    // drizzle-orm's maps point one level too high (`node_modules/src/…`): its package is flattened.
    const pkg = parts[0] === "src" ? "drizzle-orm" : parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
    return { source: pkg, line: entry.originalLine + 1, file };
  }
  const src = file.indexOf("src/");
  return { source: src !== -1 ? file.slice(src) : file, line: entry.originalLine + 1, file };
}

export function loadSourceMap(path) {
  return existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, "utf8"))) : undefined;
}

/**
 * Self time by function and by source, in ms and as a share of the busy (non-idle) time; busy
 * time per request when `requests` is given. The profile's `timeDeltas[i + 1]` is the time spent
 * at sample i — but workerd samples an isolate only while it holds it, and a loaded machine starves
 * the sampler, so a gap longer than a few intervals is counted as `maxDeltaUs` (else one stalled
 * sample would take the blame for milliseconds nobody measured). Shares are the robust part.
 */
export function summarise(profile, { map, requests, top = 12, bundle = "dist/index.js", maxDeltaUs = 400 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const located = new Map();
  const where = (id) => {
    let w = located.get(id);
    if (!w) {
      const frame = byId.get(id).callFrame;
      const name = frame.functionName || "(anonymous)";
      const at = META.has(name) ? { source: name, line: 0 } : origin(map, frame, bundle);
      const key = at.source === name ? name : `${name} ${at.source}${at.line ? `:${at.line}` : ""}`;
      w = { name, key, source: at.source };
      located.set(id, w);
    }
    return w;
  };
  const self = new Map();
  const sources = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = Math.min(profile.timeDeltas[i + 1] ?? 0, maxDeltaUs);
    const id = profile.samples[i];
    const w = where(id);
    total += dt;
    if (w.name === "(idle)") {
      idle += dt;
      continue;
    }
    if (w.name === "(garbage collector)") gc += dt;
    self.set(w.key, (self.get(w.key) ?? 0) + dt);
    sources.set(w.source, (sources.get(w.source) ?? 0) + dt);
    // Inclusive time of this project's functions: each counted once per sample, however deep.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const up = where(at);
      if (up.source.startsWith("src/") && !seen.has(up.key)) {
        seen.add(up.key);
        inclusive.set(up.key, (inclusive.get(up.key) ?? 0) + dt);
      }
    }
  }
  const busy = total - idle;
  const rank = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Number((us / 1000).toFixed(1)), share: Number((us / busy).toFixed(3)) }));
  return {
    sampled_ms: Math.round(total / 1000),
    busy_ms: Math.round(busy / 1000),
    gc_share: Number((gc / Math.max(1, busy)).toFixed(3)),
    ...(requests ? { requests, busy_us_per_req: Math.round(busy / requests) } : {}),
    sources: rank(sources),
    functions: rank(self),
    project_inclusive: rank(inclusive),
  };
}
