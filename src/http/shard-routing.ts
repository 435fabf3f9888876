import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../platform/context";
import { assignShard, findEquipment, findShard } from "../platform/db/directory";
import {
  CONSISTENCY_HEADER,
  type Consistency,
  formatConsistencyToken,
  parseConsistencyToken,
} from "../platform/db/sessions";
import { FIRST_SHARD, type ShardName, shardOfId } from "../platform/db/shards";
import { bookmarkOf, buildDeps } from "../platform/deps";

/**
 * Which shard a request's queries go to. Services only ever see `deps.db`, already on that shard.
 *
 * - Every caller but a super_admin has a makerspace in its token, and may touch nothing else:
 *   its makerspace's shard (routed in `authenticate`, before the device check reads its row).
 * - A super_admin's request names its target, read from the validated request (`routeByRequest`,
 *   from the validation hook), strongest first: a `makerspace_id` (query, body or path) → the directory;
 *   an equipment id (`equipment_id`, or the `id` of `/equipment/{id}`) → the directory's
 *   equipment index; any other path `id`, or a body `skill_id` → the shard tag of the id. A
 *   listing naming no makerspace fans out over every shard (src/platform/db/fan-out.ts).
 * - A makerspace with no directory row has never been written: reads go to SHARD_0, where its
 *   rows are, like everywhere, absent — it answers as an empty makerspace, and no row is created.
 *   A write (any method but GET) places it first (`assignShard`, least-filled shard).
 *
 * The consistency of the session follows the request: see {@link consistencyOf}.
 */
export interface Routing {
  shard: ShardName;
  /** The makerspace the request is about, when known. */
  makerspaceId: string | null;
  /** That makerspace has its directory row (false: it answers as empty, until a write places it). */
  placed: boolean;
  /** How the shard was found; a weaker hint never overrides a stronger one. */
  by: RoutedBy;
}

const STRENGTH = { default: 0, id: 1, equipment: 2, makerspace: 3, principal: 4 } as const;
type RoutedBy = keyof typeof STRENGTH;

const isWrite = (c: Context<AppEnv>) => c.req.method !== "GET" && c.req.method !== "HEAD";

/** `POST …/access/equipment/{id}/verify`: a read of the primary (its audit event goes by queue). */
const VERIFY_PATH = /\/access\/equipment\/[^/]+\/verify\/?$/;

/**
 * - Writes: a session on the primary ("first-primary"), whose bookmark the response returns.
 * - `verify` and `consistency=strong` reads: the binding itself — D1 runs every query made without
 *   a session on the primary — so they need no session, and reuse this isolate's Drizzle instance
 *   and prepared queries of that binding.
 * - A read sending back a token of this shard: a session at that bookmark.
 * - Any other read: a session on any replica ("first-unconstrained").
 */
export function consistencyOf(c: Context<AppEnv>, shard: ShardName): Consistency {
  if (c.req.method === "POST" && VERIFY_PATH.test(c.req.path)) return { kind: "plain" };
  if (isWrite(c)) return { kind: "primary" };
  if (c.req.query("consistency") === "strong") return { kind: "plain" };
  const token = parseConsistencyToken(c.req.header(CONSISTENCY_HEADER));
  if (token?.shard === shard) return { kind: "bookmark", bookmark: token.bookmark };
  return { kind: "any" };
}

function routeTo(c: Context<AppEnv>, routing: Routing): void {
  c.set("routing", routing);
  c.set(
    "deps",
    buildDeps(c.env, c.executionCtx, c.get("requestId"), {
      logger: c.get("logger"),
      shard: routing.shard,
      reads: (shard) => consistencyOf(c, shard),
    }),
  );
}

/** To a makerspace's shard; a write places a makerspace that has none, a read does not. */
async function toMakerspace(c: Context<AppEnv>, makerspaceId: string, by: RoutedBy, place: boolean): Promise<void> {
  const found = place
    ? await assignShard(c.env, makerspaceId, c.get("deps").now)
    : await findShard(c.env, makerspaceId);
  routeTo(c, { shard: found ?? FIRST_SHARD, makerspaceId, placed: found !== null, by });
}

/** After authentication: a caller with a makerspace is routed to it (not yet placing it). */
export async function routeByPrincipal(c: Context<AppEnv>): Promise<void> {
  const makerspaceId = c.get("principal").makerspaceId;
  if (makerspaceId === null) routeTo(c, { shard: FIRST_SHARD, makerspaceId: null, placed: false, by: "default" });
  else await toMakerspace(c, makerspaceId, "principal", false);
}

/** Path parameters naming an equipment item, routed through the directory's equipment index. */
function isEquipmentParam(c: Context<AppEnv>, name: string): boolean {
  return name === "equipment_id" || (name === "id" && /\/equipment\/:id(\/|$)/.test(c.req.routePath));
}

/**
 * From the validation hook, once a part of the request is validated: the hints it gives (see
 * {@link Routing}). A write by a caller routed by its token places the makerspace here, once the
 * request got past authorization and its first validation.
 */
export async function routeByRequest(c: Context<AppEnv>, target: string, data: unknown): Promise<void> {
  const routing = c.get("routing");
  if (!routing || typeof data !== "object" || data === null) return;
  const fields = data as Record<string, unknown>;
  if (routing.by === "principal") {
    if (isWrite(c) && !routing.placed && routing.makerspaceId !== null) {
      await toMakerspace(c, routing.makerspaceId, "principal", true);
    }
    return;
  }
  const stronger = (by: RoutedBy) => STRENGTH[by] > STRENGTH[routing.by];
  const makerspaceId = fields.makerspace_id;
  const names = target === "query" || target === "json" || target === "param";
  if (names && typeof makerspaceId === "string" && stronger("makerspace")) {
    await toMakerspace(c, makerspaceId, "makerspace", isWrite(c));
    return;
  }
  if (target === "param") {
    for (const [name, value] of Object.entries(fields)) {
      if (typeof value !== "string") continue;
      if (isEquipmentParam(c, name) && stronger("equipment")) {
        const home = await findEquipment(c.env, value);
        if (home) routeTo(c, { shard: home.shard, makerspaceId: home.makerspaceId, placed: true, by: "equipment" });
      } else if (name === "id" && stronger("id")) {
        routeTo(c, { shard: shardOfId(value), makerspaceId: null, placed: true, by: "id" });
      }
    }
  }
  if (target === "json" && typeof fields.skill_id === "string" && stronger("id")) {
    routeTo(c, { shard: shardOfId(fields.skill_id), makerspaceId: null, placed: true, by: "id" });
  }
}

/**
 * A successful write's response carries `x-consistency-token`: the shard it wrote and its
 * session's bookmark after the write. Sent back on a read of that shard, it makes the read wait
 * for a replica at least that fresh.
 */
export const consistencyToken = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!isWrite(c) || c.res.status < 200 || c.res.status > 299) return;
  const deps = c.get("deps");
  const bookmark = deps ? bookmarkOf(deps) : null;
  if (bookmark) c.header(CONSISTENCY_HEADER, formatConsistencyToken(deps.shard, bookmark));
});
