import { createServer, type IncomingMessage } from "node:http";
import type { TestProject } from "vitest/node";

/**
 * A real identity provider's JWKS endpoint on 127.0.0.1 for the tests (workerd fetches it like any
 * URL). Tests publish the public keys they generate and switch the endpoint's behaviour through
 * `/control/{set}`; every set is independent, so each test names its own.
 *   GET  /jwks/{set}     the set as published: 200 JSON, 503 when down, a non-JSON body when garbled
 *   PUT  /control/{set}  { keys?, down?, garbled? } merged into the set's state
 *   GET  /control/{set}  { fetches }: how many times /jwks/{set} was asked for
 */
interface KeySetState {
  keys: unknown[];
  down: boolean;
  garbled: boolean;
  fetches: number;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

export default async function setup(project: TestProject) {
  const sets = new Map<string, KeySetState>();
  const state = (name: string) => {
    let set = sets.get(name);
    if (!set) {
      set = { keys: [], down: false, garbled: false, fetches: 0 };
      sets.set(name, set);
    }
    return set;
  };
  const server = createServer(async (req, res) => {
    const [, kind, name] = (req.url ?? "").split("/");
    if (!name || (kind !== "jwks" && kind !== "control")) {
      res.writeHead(404).end();
      return;
    }
    const set = state(decodeURIComponent(name));
    if (kind === "jwks") {
      set.fetches += 1;
      if (set.down) res.writeHead(503).end("down");
      else if (set.garbled) res.writeHead(200, { "content-type": "application/json" }).end("<html>oops</html>");
      else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: set.keys }));
      return;
    }
    if (req.method === "PUT") Object.assign(set, JSON.parse(await readBody(req)));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ fetches: set.fetches }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("JWKS test server has no port");
  project.provide("identityProviderUrl", `http://127.0.0.1:${address.port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
