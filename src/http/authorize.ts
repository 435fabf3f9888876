import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { instructsAny } from "../certifications/instructor-rights";
import { type Access, assertCaller } from "../identity/access";
import { assertDeviceMayUse, assertMakerspace } from "../identity/guards";
import type { Principal } from "../identity/principal";
import type { AppEnv } from "../platform/context";
import { AppError } from "../platform/errors";

/**
 * The one place a route's declared access is enforced. Before validation: the caller's role
 * (403 whatever it sent) — on a route open to instructors but not to members, a member who
 * instructs no skill at all is refused here too — and `device-self`. After each part of the
 * request is validated ({@link enforceScope}, called from the validation hook): the makerspace,
 * user and equipment the request names. Services then receive a request that is already authorized at this level and
 * check only what depends on stored rows (another makerspace's row is 404).
 */
export function authorize(access: Access) {
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set("access", access);
    if (!("public" in access)) {
      const p = c.get("principal");
      assertCaller(p, access);
      if (mayOnlyInstruct(p, access) && !(await instructsAny(c.get("deps"), p))) {
        throw new AppError("forbidden", "Not allowed for this role");
      }
      if (access.scope.includes("device-self") && p.role === "device" && c.req.param("id") !== p.sub) {
        throw new AppError("forbidden", "Only the device itself may call this");
      }
    }
    await next();
  });
}

/** A member reaches this route only as an instructor (the service checks which skill). */
function mayOnlyInstruct(p: Principal, access: Exclude<Access, { public: true }>): boolean {
  return p.role === "member" && access.callers.includes("instructor") && !access.callers.includes("member");
}

/** The scope rules that read the validated query, body and path (see {@link authorize}). */
export function enforceScope(c: Context<AppEnv>, target: string, data: unknown): void {
  const access = c.get("access");
  if (!access || "public" in access || typeof data !== "object" || data === null) return;
  const p = c.get("principal");
  const fields = data as Record<string, unknown>;
  const named = target === "query" || target === "json";
  for (const rule of access.scope) {
    // A makerspace named in the path (`/makerspaces/{makerspace_id}/…`) is held to the same rule.
    if (rule === "makerspace" && (named || target === "param") && typeof fields.makerspace_id === "string") {
      assertMakerspace(p, fields.makerspace_id);
    } else if (rule === "own-user" && named && p.role === "member" && !access.callers.includes("instructor")) {
      if (typeof fields.user_id === "string" && fields.user_id !== p.sub) {
        throw new AppError("forbidden", "Members may only act for themselves");
      }
    } else if (rule === "device-equipment" && target === "param" && typeof fields.equipment_id === "string") {
      assertDeviceMayUse(p, fields.equipment_id);
    }
  }
}
