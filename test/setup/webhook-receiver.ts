import { createServer, type IncomingMessage } from "node:http";
import type { TestProject } from "vitest/node";

/**
 * A real webhook receiver on 127.0.0.1 for the tests (workerd POSTs to it like to any URL).
 * Each receiver is a name a test chooses; its behaviour is set through `/control/{name}`:
 *   POST /hook/{name}      records the delivery (headers, body, time), then answers `status`
 *                          (default 204) — or `failFirst` times 500 first — or never answers (`hang`)
 *   PUT  /control/{name}   { status?, failFirst?, hang? } merged into the receiver's behaviour
 *   GET  /control/{name}   { deliveries: [{ headers, body, received_at }] }
 */
interface Receiver {
  status: number;
  failFirst: number;
  hang: boolean;
  deliveries: { headers: Record<string, string>; body: string; received_at: number }[];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

export default async function setup(project: TestProject) {
  const receivers = new Map<string, Receiver>();
  const receiver = (name: string) => {
    let r = receivers.get(name);
    if (!r) {
      r = { status: 204, failFirst: 0, hang: false, deliveries: [] };
      receivers.set(name, r);
    }
    return r;
  };
  const server = createServer(async (req, res) => {
    const [, kind, raw] = (req.url ?? "").split("/");
    const name = decodeURIComponent(raw ?? "");
    if (!name || (kind !== "hook" && kind !== "control")) {
      res.writeHead(404).end();
      return;
    }
    const r = receiver(name);
    const body = await readBody(req);
    if (kind === "control") {
      if (req.method === "PUT") Object.assign(r, JSON.parse(body));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ deliveries: r.deliveries }));
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    r.deliveries.push({ headers, body, received_at: Date.now() });
    if (r.hang) return; // never answers; the sender's timeout ends it
    if (r.failFirst > 0) {
      r.failFirst -= 1;
      res.writeHead(500).end("not now");
      return;
    }
    res.writeHead(r.status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("webhook receiver has no port");
  project.provide("webhookReceiverUrl", `http://127.0.0.1:${address.port}`);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
