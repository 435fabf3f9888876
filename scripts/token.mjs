// npm run token -- --role makerspace_admin --sub admin-1 --makerspace ms-1 [--minutes 30] [--device-kind kiosk]
// Prints a JWT signed with the local secret (.dev.vars, or JWT_SECRET_KEY in the environment).
// With --env staging|production: the settings of that environment in wrangler.toml, and the
// secret only from JWT_SECRET_KEY in the environment (never .dev.vars's local one).
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { readDevVars, readWranglerVars } from "./lib/dev-vars.mjs";

const { values } = parseArgs({
  options: {
    role: { type: "string", default: "makerspace_admin" },
    sub: { type: "string", default: "admin-1" },
    makerspace: { type: "string" },
    minutes: { type: "string" },
    "device-kind": { type: "string" },
    jti: { type: "string" },
    env: { type: "string", default: "" },
  },
});

const deployed = values.env !== "";
const vars = { ...readWranglerVars("wrangler.toml", values.env), ...(deployed ? {} : readDevVars()), ...process.env };
const secret = vars.JWT_SECRET_KEY;
if (!secret) {
  console.error(
    deployed
      ? `Export the ${values.env} JWT_SECRET_KEY (from where you keep it; Cloudflare does not show secrets back).`
      : "JWT_SECRET_KEY is not set: run `npm run dev` once (it creates .dev.vars) or export it.",
  );
  process.exit(1);
}
if (values.role !== "super_admin" && !values.makerspace) {
  console.error("--makerspace is required for every role but super_admin");
  process.exit(1);
}
if (values.role === "device" && vars.ALLOW_UNREGISTERED_DEVICES !== "true") {
  console.error(
    "Note: this device token names no registered device; it is refused (401) unless " +
      "ALLOW_UNREGISTERED_DEVICES=true. Register the device with POST /api/v1/devices for a real token.",
  );
}
const minutes = Number(values.minutes ?? vars.ACCESS_TOKEN_EXPIRE_MINUTES ?? 30);
const now = Math.floor(Date.now() / 1000);
const jwt = new SignJWT({
  role: values.role,
  ...(values.makerspace ? { makerspace_id: values.makerspace } : {}),
  ...(values["device-kind"] ? { device_kind: values["device-kind"] } : {}),
})
  .setProtectedHeader({ alg: vars.JWT_ALGORITHM || "HS256", typ: "JWT" })
  .setSubject(values.sub)
  .setIssuedAt(now)
  .setExpirationTime(now + Math.round(minutes * 60));
if (values.jti) jwt.setJti(values.jti);
if (vars.JWT_ISSUER) jwt.setIssuer(vars.JWT_ISSUER);
if (vars.JWT_AUDIENCE) jwt.setAudience(vars.JWT_AUDIENCE);
console.log(await jwt.sign(new TextEncoder().encode(secret)));
