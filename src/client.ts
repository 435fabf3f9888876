import { hc } from "hono/client";
import type { AppType } from "./app";

export type { AppType };

export interface ClientOptions {
  /** A bearer token: a member's, an admin's, or a device's. */
  token?: string;
  /** Another fetch (a timeout wrapper, a test's Worker fetch). */
  fetch?: typeof fetch;
  /** Extra headers on every call (e.g. `x-request-id`). */
  headers?: Record<string, string>;
}

/**
 * A typed client of this API (Hono's `hc`): paths, parameters, bodies and JSON answers are checked
 * against the routes' own declarations at compile time. Used by the kiosk page and the reference
 * controller; any TypeScript client can import it.
 *
 * @example
 * const api = makrcaveClient("https://skills.example.org", { token });
 * const res = await api.api.v1.skills.access.equipment[":equipment_id"].verify.$post({
 *   param: { equipment_id: "eq-laser-001" },
 *   json: { badge_uid: "04A2B3C4" },
 * });
 */
export function makrcaveClient(baseUrl: string, options: ClientOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return hc<AppType>(baseUrl, { headers, ...(options.fetch ? { fetch: options.fetch } : {}) });
}

export type MakrcaveClient = ReturnType<typeof makrcaveClient>;
