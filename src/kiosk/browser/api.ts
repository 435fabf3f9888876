import type { ClientResponse } from "hono/client";
import type { ClientErrorStatusCode, ServerErrorStatusCode, SuccessStatusCode } from "hono/utils/http-status";
import { makrcaveClient } from "../../client";
import { storedToken } from "./token";

/** Why a call failed: no answer at all, the token refused (401), or another error answer. */
export class KioskError extends Error {
  constructor(
    readonly kind: "network" | "token" | "http",
    readonly status = 0,
    readonly body: unknown = null,
  ) {
    super(kind);
  }
}

/** The `error_type` of the API's error envelope, when the failure carried one. */
export function errorType(err: unknown): string | undefined {
  if (!(err instanceof KioskError) || typeof err.body !== "object" || err.body === null) return undefined;
  if (!("error_type" in err.body) || typeof err.body.error_type !== "string") return undefined;
  return err.body.error_type;
}

/** Every answer is about one member: none may come from or land in the HTTP cache, none carries cookies. */
const kioskFetch: typeof fetch = (input, init) => fetch(input, { ...init, cache: "no-store", credentials: "omit" });

/** Read per call: setup replaces the token, and a refused one is removed. */
function api() {
  return makrcaveClient(location.origin, { token: storedToken() ?? "", fetch: kioskFetch }).api.v1;
}

type Success<T> = ClientResponse<T, SuccessStatusCode, "json">;
/** The client's types hold a route's declared answers; any route may also answer an error envelope. */
type Answer<T> = Success<T> | ClientResponse<unknown, ClientErrorStatusCode | ServerErrorStatusCode, "json">;

async function send<T>(call: () => Promise<Answer<T>>): Promise<T> {
  let res: Answer<T>;
  try {
    res = await call();
  } catch {
    throw new KioskError("network");
  }
  if (res.ok) return res.json();
  const body = await res.json().catch(() => null);
  throw new KioskError(res.status === 401 ? "token" : "http", res.status, body);
}

const PAGE = 200;

/** Ids of the equipment under maintenance: the bulk check says who may use an item, not whether it is open. */
async function listMaintenance(): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await send(() =>
      api().equipment.$get({ query: { status: "maintenance", limit: String(PAGE), offset: String(offset) } }),
    );
    for (const e of page) ids.add(e.id);
    if (page.length < PAGE) return ids;
  }
}

/** Everything the member view shows, fetched at once. */
export async function loadMember(userId: string) {
  const [certs, access, pending, maintenance, requirements, instructs] = await Promise.all([
    send(() => api().skills["user-skills"].$get({ query: { user_id: userId, limit: String(PAGE) } })),
    send(() => api().skills.access.equipment.$get({ query: { user_id: userId, consistency: "strong" } })),
    send(() => api().skills.requests.$get({ query: { user_id: userId, status: "pending", limit: String(PAGE) } })),
    listMaintenance(),
    send(() => api().skills["equipment-requirements"].$get({ query: {} })),
    send(() => api().instructors.$get({ query: { user_id: userId, limit: String(PAGE) } })),
  ]);
  const skillIds = new Map<string, string>();
  for (const item of requirements) for (const s of item.required_skills) skillIds.set(s.skill_name, s.skill_id);
  return {
    userId,
    certs,
    access: access.equipment_access,
    summary: access.summary,
    pending: new Set(pending.map((r) => r.skill_id)),
    maintenance,
    skillIds,
    /** Names of the skills the member instructs, in name order. */
    instructs: instructs.map((i) => i.skill_name),
  };
}

export type Member = Awaited<ReturnType<typeof loadMember>>;

/** Any authenticated read proves the token; the requirements list is small and every kiosk may read it. */
export async function checkToken(): Promise<void> {
  await send(() => api().skills["equipment-requirements"].$get({ query: {} }));
}

/** The member a badge belongs to; the UID travels in the body, never in a URL. */
export async function resolveBadge(badgeUid: string): Promise<string> {
  return (await send(() => api().badges.resolve.$post({ json: { badge_uid: badgeUid } }))).user_id;
}

export function requestTraining(userId: string, skillId: string) {
  return send(() => api().skills.requests.$post({ json: { skill_id: skillId, user_id: userId } }));
}
