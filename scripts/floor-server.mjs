// The runtime's floor: a no-op Worker (one constant JSON answer to every request) served by the
// project's own Miniflare on 127.0.0.1:$PORT, started as start-local starts the real one. `npm run
// bench` measures it in the same run as the API, so each route's cost reads as a ratio to it.
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const port = Number(process.env.PORT ?? 8799);
const script =
  'export default { fetch() { return new Response(\'{"status":"ok"}\', { headers: { "content-type": "application/json" } }); } };';
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port,
    cf: false,
    workers: [{ name: "noop", modules: true, script, compatibilityDate: "2026-11-01" }],
  }),
);
const url = await mf.ready;
console.log(`no-op Worker (the floor) listening on ${url}`);
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    await mf.dispose();
    process.exit(0);
  });
}
