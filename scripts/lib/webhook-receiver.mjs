// A webhook receiver for the e2e suite: a small HTTP server on 127.0.0.1 that records every
// delivery and checks its signature the way a third-party receiver would (standard-webhooks.mjs,
// apart from the service's own signer). Each path is one receiver with its own behaviour:
//   ok (default)   answers 204
//   failFirst: n   answers 500 to the first n deliveries, then 204 (a receiver that recovers)
//   hang: true     never answers (the service's 10 s timeout ends each attempt)
import { createServer } from "node:http";
import { verify } from "./standard-webhooks.mjs";

export async function startReceiver() {
  const receivers = new Map();
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", async () => {
      const r = receivers.get(req.url);
      if (!r) {
        res.writeHead(404).end();
        return;
      }
      const delivery = { headers: req.headers, body, received_at: Date.now(), payload: null, error: null };
      try {
        delivery.payload = await verify(r.secret, req.headers, body);
      } catch (err) {
        delivery.error = String(err?.message ?? err);
      }
      r.deliveries.push(delivery);
      if (r.hang) return;
      if (r.failFirst > 0) {
        r.failFirst -= 1;
        res.writeHead(500).end("try again later");
        return;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    /** A new receiver at `path`; call `secret(s)` once the webhook exists. */
    receiver(path, behaviour = {}) {
      const r = { secret: "", failFirst: 0, hang: false, ...behaviour, deliveries: [] };
      receivers.set(path, r);
      return {
        url: base + path,
        deliveries: r.deliveries,
        useSecret(secret) {
          r.secret = secret;
        },
      };
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
