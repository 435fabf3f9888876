// npm run token -- --role makerspace_admin --sub admin-1 --makerspace ms-1 [--minutes 30] [--device-kind kiosk] [--console]
// Prints a JWT signed with the local secret (.dev.vars, or JWT_SECRET_KEY in the environment);
// with --console, the admin console's sign-in link carrying it (`/admin#token=…`).
// With --env staging|production: the settings of that environment in wrangler.toml, and the
// secret only from JWT_SECRET_KEY in the environment (never .dev.vars's local one).
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { readDevVars, readWranglerVars } from "./lib/dev-vars.mjs";

const ROLES = ["super_admin", "makerspace_admin", "member", "device"];
const DEVICE_KINDS = ["door", "machine", "kiosk"];

const USAGE = `Usage: npm run -s token -- --role ROLE --sub ID [--makerspace ID] [options]

Prints a JWT signed with the local secret (JWT_SECRET_KEY from .dev.vars or the environment).

  --role ROLE          ${ROLES.join(" | ")} (default makerspace_admin)
  --sub ID             the caller's id: a user id, or a device id (default admin-1)
  --makerspace ID      the caller's makerspace (required for every role but super_admin)
  --minutes N          lifetime in minutes, a positive number (default ACCESS_TOKEN_EXPIRE_MINUTES, 30)
  --device-kind KIND   ${DEVICE_KINDS.join(" | ")} (device tokens; kiosk unlocks the kiosk page)
  --jti ID             a token id (registered devices' tokens carry one)
  --console            print the admin console's sign-in link (URL/admin#token=…) instead
  --url URL            the service's address for --console (default http://127.0.0.1:8787)
  --name NAME          a display name claim (shown by the console)
  --env NAME           staging | production: that environment's settings from wrangler.toml; the
                       secret is read only from JWT_SECRET_KEY in the shell
  -h, --help           this text

Example:
  npm run -s token -- --role member --sub user-123 --makerspace ms-1 --minutes 60`;

/** A usage error: one line on stderr and exit code 2, as command-line tools do. */
function fail(message) {
  console.error(`token: ${message} (see --help)`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    strict: true,
    allowPositionals: false,
    options: {
      role: { type: "string", default: "makerspace_admin" },
      sub: { type: "string", default: "admin-1" },
      makerspace: { type: "string" },
      minutes: { type: "string" },
      "device-kind": { type: "string" },
      jti: { type: "string" },
      env: { type: "string", default: "" },
      console: { type: "boolean", default: false },
      url: { type: "string", default: "http://127.0.0.1:8787" },
      name: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (err) {
  const message = String(err.message).split("\n")[0];
  // parseArgs reads "--minutes -5" as a missing value followed by an option.
  fail(message.includes("'--minutes'") ? "--minutes must be a positive number" : message);
}

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!ROLES.includes(values.role)) fail(`--role must be one of ${ROLES.join(", ")}; got "${values.role}"`);
if (values.sub.trim() === "") fail("--sub must not be empty");
if (values.role !== "super_admin" && !values.makerspace)
  fail("--makerspace is required for every role but super_admin");
if (values["device-kind"] !== undefined) {
  if (values.role !== "device") fail("--device-kind applies only to --role device");
  if (!DEVICE_KINDS.includes(values["device-kind"])) fail(`--device-kind must be one of ${DEVICE_KINDS.join(", ")}`);
}

const deployed = values.env !== "";
const vars = { ...readWranglerVars("wrangler.toml", values.env), ...(deployed ? {} : readDevVars()), ...process.env };
const minutesText = values.minutes ?? (vars.ACCESS_TOKEN_EXPIRE_MINUTES || "30");
const minutes = Number(minutesText);
if (!/^\d+(\.\d+)?$/.test(minutesText.trim()) || !Number.isFinite(minutes) || minutes <= 0) {
  fail(`--minutes must be a positive number; got "${minutesText}"`);
}
const secret = vars.JWT_SECRET_KEY;
if (!secret) {
  console.error(
    deployed
      ? `token: export the ${values.env} JWT_SECRET_KEY (from where you keep it; Cloudflare does not show secrets back)`
      : "token: JWT_SECRET_KEY is not set: run `npm run dev` once (it creates .dev.vars) or export it",
  );
  process.exit(1);
}
if (values.role === "device" && vars.ALLOW_UNREGISTERED_DEVICES !== "true") {
  console.error(
    "Note: this device token names no registered device; it is refused (401) unless " +
      "ALLOW_UNREGISTERED_DEVICES=true. Register the device with POST /api/v1/devices for a real token.",
  );
}

const now = Math.floor(Date.now() / 1000);
const jwt = new SignJWT({
  role: values.role,
  ...(values.makerspace ? { makerspace_id: values.makerspace } : {}),
  ...(values["device-kind"] ? { device_kind: values["device-kind"] } : {}),
  ...(values.name ? { name: values.name } : {}),
})
  .setProtectedHeader({ alg: vars.JWT_ALGORITHM || "HS256", typ: "JWT" })
  .setSubject(values.sub)
  .setIssuedAt(now)
  .setExpirationTime(now + Math.round(minutes * 60));
if (values.jti) jwt.setJti(values.jti);
if (vars.JWT_ISSUER) jwt.setIssuer(vars.JWT_ISSUER);
if (vars.JWT_AUDIENCE) jwt.setAudience(vars.JWT_AUDIENCE);
const signed = await jwt.sign(new TextEncoder().encode(secret));
if (values.console) {
  if (values.role === "device") fail("--console signs a person in: use a person's role");
  console.log(`${values.url.replace(/\/+$/, "")}/admin#token=${signed}`);
} else {
  console.log(signed);
}
