import { createMiddleware } from "hono/factory";
import { checkDeviceToken } from "../auth/device-tokens";
import { bearerToken, verifyToken } from "../auth/jwt";
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
