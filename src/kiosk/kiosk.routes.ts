import { OpenAPIHono, z } from "@hono/zod-openapi";
import { apiRoute } from "../http/route";
import type { AppEnv } from "../platform/context";
import { kioskCsp, kioskPage } from "./page";

export const KIOSK_IDLE_DEFAULT_SECONDS = 60;

export const KioskQuerySchema = z.strictObject({
  idle: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(KIOSK_IDLE_DEFAULT_SECONDS)
    .describe("Seconds without input before the page returns to idle (default 60)"),
  setup: z.enum(["1", "true"]).optional().describe("Show the token setup screen even when a token is stored"),
});

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

const page = apiRoute({
  method: "get",
  path: "/",
  tags: ["System"],
  summary: "The kiosk page: members tap a badge to see their certifications and equipment",
  description: "The page itself needs no token; its data calls carry the kiosk device token an admin pastes in.",
  access: { public: true },
  request: { query: KioskQuerySchema },
  responses: { 200: { description: "HTML page", content: { "text/html": { schema: z.string() } } } },
});

/**
 * GET /kiosk: the touch-screen page. No auth for the page itself; its data calls carry the kiosk
 * device token the admin pasted. A fresh nonce per response keeps the CSP strict while the page
 * stays a single self-contained document.
 */
export const kioskRoutes = new OpenAPIHono<AppEnv>().openapi(page, (c) => {
  const q = c.req.valid("query");
  const n = nonce();
  return c.html(kioskPage(n, q.idle, q.setup !== undefined), 200, {
    "content-security-policy": kioskCsp(n),
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
  });
});
