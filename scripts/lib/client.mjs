// Small HTTP helpers shared by the bench, soak and e2e scripts (loopback only).
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { readDevVars } from "./dev-vars.mjs";

/** An HS256 token under `secret` (default: JWT_SECRET_KEY from the environment, else .dev.vars). */
export async function mintToken({ role, sub, makerspace, minutes = 120, claims = {}, secret: given = undefined }) {
  const secret = given ?? process.env.JWT_SECRET_KEY ?? readDevVars().JWT_SECRET_KEY;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role, ...(makerspace ? { makerspace_id: makerspace } : {}), ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + minutes * 60)
    .sign(new TextEncoder().encode(secret));
}

/** Registers a device through the API as an admin of `makerspace`; returns its token. */
export async function registerDevice(baseUrl, { name, kind = "door", makerspace, equipmentIds = [] }) {
  const admin = api(baseUrl, await mintToken({ role: "makerspace_admin", sub: "script-admin", makerspace }));
  const res = await admin("POST", "/api/v1/devices", {
    name,
    kind,
    makerspace_id: makerspace,
    equipment_ids: equipmentIds,
  });
  if (res.status !== 201) throw new Error(`registering device ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

export function api(baseUrl, token) {
  return async function request(method, path, body, headers = {}) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
}

/** A free TCP port on 127.0.0.1, for a server a script starts. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForHealth(baseUrl, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server at ${baseUrl} did not become healthy`);
}

/**
 * Starts a server script (`scripts/start-local.mjs` or `scripts/dev.mjs`) as a child process on
 * a fresh persistence directory and waits for /health. Returns { url, stop }.
 */
export async function startServer({ script = "scripts/start-local.mjs", port, args = [], quiet = true, env = {} }) {
  const persistDir = mkdtempSync(join(tmpdir(), "makrcave-"));
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, PORT: String(port), PERSIST_DIR: persistDir, WRANGLER_SEND_METRICS: "false", ...env },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  // Ready means the script said so (migrations applied), not merely that /health answers.
  const ready = new Promise((resolve) => {
    let seen = "";
    child.stdout.on("data", (chunk) => {
      if (!quiet) process.stdout.write(chunk);
      seen = (seen + chunk.toString()).slice(-4096);
      if (/listening on|Ready on/i.test(seen)) resolve();
    });
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  await Promise.race([
    ready.then(() => waitForHealth(url)),
    exited.then((code) => {
      throw new Error(`${script} exited early with ${code}`);
    }),
  ]);
  return {
    url,
    persistDir,
    /** The server script's process: the root of the server's process tree (its CPU: lib/load.mjs). */
    pid: child.pid,
    async stop() {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Deterministic PRNG (mulberry32), so every bench run loads the same dataset. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `worker(item)` over items with at most `concurrency` in flight. */
export async function pool(items, concurrency, worker) {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await worker(items[i], i);
    }
  });
  await Promise.all(runners);
}
