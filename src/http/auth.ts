import { createMiddleware } from "hono/factory";
import { checkDeviceToken } from "../devices/tokens";
import { bearerToken, verifyToken } from "../identity/jwt";
import type { AppEnv } from "../platform/context";
import { routeByPrincipal } from "./shard-routing";

/**
 * Every `/api/v1` route: a verified bearer token becomes `c.var.principal`; otherwise 401. The
 * request is then routed to the token's makerspace's shard, where registered devices' tokens are
 * checked against their row (revoked/rotated → 401).
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const principal = await verifyToken(bearerToken(c.req.header("authorization")), c.get("deps").config);
  c.set("principal", principal);
  await routeByPrincipal(c);
  c.set("principal", await checkDeviceToken(c.get("deps"), principal));
  await next();
});
