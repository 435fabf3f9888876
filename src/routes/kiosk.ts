import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { kioskCsp, kioskPage } from "../kiosk/page";
import { validate } from "../lib/validate";
import type { RouteDoc } from "../openapi/registry";

export const KIOSK_IDLE_DEFAULT_SECONDS = 60;

export const KioskQuerySchema = z.object({
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

/**
 * GET /kiosk: the touch-screen page of API.md section 10. No auth for the page itself; its data
 * calls carry the kiosk device token the admin pasted. A fresh nonce per response keeps the CSP
 * strict while the page stays a single self-contained document.
 */
export const kioskRoutes = new Hono<AppEnv>().get("/", validate("query", KioskQuerySchema), (c) => {
  const q = c.req.valid("query");
  const n = nonce();
  c.header("content-security-policy", kioskCsp(n));
  c.header("cache-control", "no-store");
  c.header("referrer-policy", "no-referrer");
  c.header("x-frame-options", "DENY");
  c.header("permissions-policy", "camera=(), microphone=(), geolocation=()");
  return c.html(kioskPage(n, q.idle, q.setup !== undefined));
});

export const kioskDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/kiosk",
    summary: "The kiosk page: members tap a badge to see their certifications and equipment",
    tag: "System",
    roles: "anyone (the page's data calls use a kiosk device token)",
    auth: false,
    query: KioskQuerySchema,
    responses: { 200: { description: "HTML page", contentType: "text/html" } },
  },
];
