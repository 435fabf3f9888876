import { createMiddleware } from "hono/factory";
import { checkDeviceToken } from "../auth/device-tokens";
import { ADMIN_ROLES, requireRole } from "../auth/guards";
import { bearerToken, verifyToken } from "../auth/jwt";
import type { Role } from "../auth/principal";
import type { AppEnv } from "../context";

/**
 * Every `/api/v1` route: a verified bearer token becomes `c.var.principal`; otherwise 401.
 * Registered devices' tokens are also checked against their row (revoked/rotated → 401).
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const deps = c.get("deps");
  const principal = await verifyToken(bearerToken(c.req.header("authorization")), deps.config);
  c.set("principal", await checkDeviceToken(deps, principal));
  await next();
});

/**
 * The role check as a route middleware, placed before `validate(...)`: a caller whose role may
 * not make the call gets 403 whatever it sent, and learns nothing about the body's rules (422).
 */
export function allowRoles(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    requireRole(c.get("principal"), ...roles);
    await next();
  });
}

export const adminOnly = allowRoles(...ADMIN_ROLES);
