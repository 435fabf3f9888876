// npm run test:browser — /docs (every operation of /openapi.json rendered, no page error), then
// the kiosk page in Debian's Chromium against the real local server: token
// setup (by button and by Enter), badge tap, tiles vs the bulk access check, a training request, the
// idle reset leaving nothing of the member behind, error messages; portrait and landscape.
// Installs nothing: .ci/run installs chromium when it is missing.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { api, freePort, startServer } from "./lib/client.mjs";
import { seedKiosk } from "./lib/kiosk-seed.mjs";

const CHROMIUM = "/usr/bin/chromium";
const IDLE_SECONDS = 8;
const OVERALL_MS = 8 * 60_000;
const SHOTS = "docs/screenshots";
const TOKEN_KEY = "makrcave-kiosk-token";
const VIEWPORTS = [
  {
    label: "portrait",
    width: 1080,
    height: 1920,
    member: { userId: "member-42", badgeUid: "04A23B4C5D6E80", instructs: ["Wood Shop Basics"] },
  },
  { label: "landscape", width: 1920, height: 1080, member: { userId: "member-43", badgeUid: "04:B1:22:9F:00:13:7C" } },
];

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok || !detail ? "" : ` — ${detail}`}`);
}
function finish(code) {
  // .ci/run adds these counts to its closing line, as it does vitest's JSON report.
  mkdirSync("test-results", { recursive: true });
  writeFileSync("test-results/browser.json", JSON.stringify({ numPassedTests: passed, numFailedTests: failed }));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed === 0 ? 0 : 1));
}

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (.ci/run does this).`);
  failed++;
  finish(1);
}

let server;
let browser;
const profile = mkdtempSync(join(tmpdir(), "kiosk-chromium-"));
async function cleanup() {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
const overall = setTimeout(() => {
  console.error(`browser tests did not finish within ${OVERALL_MS / 1000} s`);
  failed++;
  Promise.race([cleanup(), new Promise((r) => setTimeout(r, 10_000))]).finally(() => finish(1));
}, OVERALL_MS);

const visible = (page, id) => page.locator(`#${id}`).isVisible();

/** `/docs` renders every operation of `/openapi.json`, whatever its body's media type, without a page error. */
async function docsFlow() {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (msg) => {
    // The browser's own request for /favicon.ico (the service has none) is not the page's doing.
    if (msg.type() === "error" && !/\/favicon\.ico$/.test(msg.location()?.url ?? "")) problems.push(msg.text());
  });
  const doc = await (await fetch(`${server.url}/openapi.json`)).json();
  const expected = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
  await page.goto(`${server.url}/docs`);
  await page
    .waitForFunction((n) => document.querySelectorAll("details[data-op]").length >= n, expected.length, {
      timeout: 10_000,
    })
    .catch(() => {});
  const shown = (await page.$$eval("details[data-op]", (ds) => ds.map((d) => d.dataset.op))).sort();
  const missing = expected.filter((op) => !shown.includes(op));
  check(
    `/docs: all ${expected.length} operations of /openapi.json are rendered`,
    missing.length === 0 && shown.length === expected.length,
    `${shown.length} shown; missing: ${missing.join(", ")}`,
  );
  const csv = page.locator('details[data-op="POST /api/v1/skills/user-skills/import"] textarea');
  check(
    "/docs: the CSV import offers a text/csv body (not a JSON one)",
    (await csv.count()) === 1 && (await csv.getAttribute("data-type")) === "text/csv",
  );
  check("/docs: no page error while rendering", problems.length === 0, problems.join(" | "));
  await page.close();
}

async function setupToken(page, ctx) {
  await page.goto(`${server.url}/kiosk?idle=${IDLE_SECONDS}`);
  check(`${ctx}: first run shows the token setup`, await visible(page, "setup"));
  const save = async (value) => {
    await page.fill("#setup-token", value);
    await page.click("#setup-save");
  };
  await save("not a token");
  check(`${ctx}: garbage token refused in plain words`, /not a token/.test(await page.textContent("#setup-error")));
  await save(seed.adminToken);
  check(`${ctx}: non-kiosk token refused`, /not a kiosk device token/.test(await page.textContent("#setup-error")));
  // Enter saves, as the button does, and puts no line break into the field.
  await page.fill("#setup-token", "still not a token");
  await page.press("#setup-token", "Enter");
  check(
    `${ctx}: Enter in the token field saves it, without a line break`,
    /That is not a token/.test(await page.textContent("#setup-error")) &&
      (await page.inputValue("#setup-token")) === "still not a token",
  );
  await page.fill("#setup-token", seed.kioskToken);
  await page.press("#setup-token", "Enter");
  await page.waitForSelector("#idle:not([hidden])", { timeout: 10_000 });
  check(`${ctx}: idle screen says "Tap your badge"`, (await page.textContent("#idle-title")) === "Tap your badge");
  const stored = await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY);
  check(`${ctx}: token kept in localStorage`, stored === seed.kioskToken);
  check(`${ctx}: badge input has focus`, (await page.evaluate(() => document.activeElement?.id)) === "select-input");
}

async function tap(page, uid) {
  await page.keyboard.type(uid, { delay: 5 });
  await page.keyboard.press("Enter");
}

async function compareTiles(page, ctx, userId) {
  const admin = api(server.url, seed.adminToken);
  const bulk = (await admin("GET", `/api/v1/skills/access/equipment?user_id=${userId}&consistency=strong`)).body;
  const tiles = await page.$$eval(".tile", (nodes) =>
    nodes.map((n) => ({ id: n.dataset.equipmentId, access: n.dataset.access, text: n.textContent })),
  );
  check(`${ctx}: one tile per item of the bulk check`, tiles.length === bulk.equipment_access.length);
  for (const item of bulk.equipment_access) {
    const t = tiles.find((x) => x.id === item.equipment_id);
    const maintenance = seed.equipment.find((e) => e.id === item.equipment_id)?.status === "maintenance";
    const want = maintenance ? "maintenance" : item.can_access ? "yes" : "no";
    const missingShown = item.missing_skills.every((s) => t?.text.includes(s));
    check(
      `${ctx}: tile ${item.equipment_id} is "${want}" and lists its missing skills`,
      t?.access === want && missingShown,
      JSON.stringify({ tile: t, api: item }),
    );
  }
}

async function memberFlow(page, ctx, m, label) {
  await page.screenshot({ path: `${SHOTS}/kiosk-idle-${label}.png` });
  await tap(page, "DEADBEEF");
  await page.waitForSelector("#idle-error:not([hidden])", { timeout: 10_000 });
  check(
    `${ctx}: unknown badge in plain words`,
    /don't recognise this badge/.test(await page.textContent("#idle-error")),
  );
  await tap(page, m.badgeUid);
  await page.waitForSelector("#member:not([hidden])", { timeout: 15_000 });
  check(`${ctx}: badge selects the member`, (await page.textContent("#member-who")).includes(m.userId));
  const certs = await page.$$eval(".cert", (ns) => ns.map((n) => ({ text: n.textContent, cls: n.className })));
  const laser = certs.find((c) => c.text.includes("Laser Safety"));
  const wood = certs.find((c) => c.text.includes("Wood Shop Basics"));
  check(
    `${ctx}: certification expiring in 12 days highlighted`,
    laser?.cls.includes("expiring") && /Expires in 12 days/.test(laser.text),
  );
  check(
    `${ctx}: certification valid for months not highlighted`,
    wood && !wood.cls.includes("expiring") && /Valid until/.test(wood.text),
  );
  const instructs = await page.locator(".instructor").allTextContents();
  check(
    `${ctx}: "Instructor for" names the skills the member instructs, and only for an instructor`,
    m.instructs
      ? instructs.length === 1 && instructs[0] === `Instructor for: ${m.instructs.join(", ")}`
      : instructs.length === 0,
    JSON.stringify(instructs),
  );
  await compareTiles(page, ctx, m.userId);
  const cnc = page.locator('.tile[data-equipment-id="eq-cnc-01"]');
  check(
    `${ctx}: maintenance tile says so, its pending request shown`,
    /Under maintenance/.test(await cnc.textContent()) && /Requested — pending/.test(await cnc.textContent()),
  );
  await page.screenshot({ path: `${SHOTS}/kiosk-member-${label}.png` });

  const laserTile = page.locator('.tile[data-equipment-id="eq-laser-01"]');
  await laserTile.getByRole("button", { name: "Request training" }).click();
  await laserTile.locator(".status-pending").waitFor({ timeout: 10_000 });
  const lastInput = Date.now();
  const admin = api(server.url, seed.adminToken);
  const pending = (await admin("GET", `/api/v1/skills/requests?user_id=${m.userId}&status=pending`)).body;
  check(
    `${ctx}: "Request training" created a pending request for the member`,
    pending.some((r) => r.skill_id === seed.skills.laserOps.id && r.user_id === m.userId),
  );
  check(`${ctx}: the tile now shows "Requested — pending"`, /Requested — pending/.test(await laserTile.textContent()));
  await page.screenshot({ path: `${SHOTS}/kiosk-request-${label}.png` });

  await page.waitForSelector("#idle:not([hidden])", { timeout: (IDLE_SECONDS + 10) * 1000 });
  const waited = Date.now() - lastInput;
  check(
    `${ctx}: back to idle after ${IDLE_SECONDS} s without input`,
    waited >= IDLE_SECONDS * 1000 - 1500,
    `${waited} ms`,
  );
  await expectNothingLeft(page, ctx, m);
}

async function expectNothingLeft(page, ctx, m) {
  const left = await page.evaluate(
    (tokenKey) => ({
      // The page minus its own script, whose source holds labels such as "Requested — pending".
      html: (() => {
        const copy = document.documentElement.cloneNode(true);
        for (const s of copy.querySelectorAll("script")) s.remove();
        return copy.outerHTML;
      })(),
      memberChildren: document.getElementById("member-body").childElementCount,
      input: document.getElementById("select-input").value,
      local: Object.keys(localStorage).filter((k) => k !== tokenKey),
      session: sessionStorage.length,
      timings: performance
        .getEntriesByType("resource")
        .map((e) => e.name)
        .filter((n) => n.includes("user_id")),
    }),
    TOKEN_KEY,
  );
  const words = [
    m.userId,
    m.badgeUid,
    "Laser Safety",
    "Wood Shop",
    "Laser Cutter",
    "Table Saw",
    "Requested",
    "Instructor",
  ];
  const found = words.filter((w) => left.html.includes(w));
  check(
    `${ctx}: no member data left in the DOM`,
    found.length === 0 && left.memberChildren === 0 && !left.input,
    found.join(", "),
  );
  check(`${ctx}: storage holds the token only`, left.local.length === 0 && left.session === 0, JSON.stringify(left));
  check(`${ctx}: no lookup URLs left in resource timings`, left.timings.length === 0, left.timings.join(", "));
}

async function memberIdFlow(page, ctx, m) {
  await page.click("#mode-toggle");
  check(
    `${ctx}: toggle switches to member id entry`,
    (await page.textContent("#idle-title")) === "Type your member id",
  );
  await page.fill("#select-input", m.userId);
  await page.press("#select-input", "Enter");
  await page.waitForSelector("#member:not([hidden])", { timeout: 15_000 });
  check(`${ctx}: a typed member id selects the member`, (await page.textContent("#member-who")).includes(m.userId));
  await page.click("#done");
  check(`${ctx}: "Done" returns to idle at once`, await visible(page, "idle"));
  await expectNothingLeft(page, `${ctx} after Done`, m);
}

async function errorFlows(page, ctx, m) {
  const good = await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY);
  const [h, p] = good.split(".");
  await page.evaluate(([k, v]) => localStorage.setItem(k, v), [TOKEN_KEY, `${h}.${p}.invalidsignature`]);
  await tap(page, m.badgeUid);
  await page.waitForSelector("#setup:not([hidden])", { timeout: 10_000 });
  check(
    `${ctx}: a rejected token (401) asks an admin for a new one`,
    /no longer accepted/.test(await page.textContent("#setup-error")),
  );
  await page.fill("#setup-token", good);
  await page.click("#setup-save");
  await page.waitForSelector("#idle:not([hidden])", { timeout: 10_000 });
  await server.stop();
  await tap(page, m.badgeUid);
  await page.waitForSelector("#idle-error:not([hidden])", { timeout: 15_000 });
  check(`${ctx}: server down in plain words`, /can't reach the server/.test(await page.textContent("#idle-error")));
}

let seed;
try {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer({ port: await freePort() });
  seed = await seedKiosk(
    server.url,
    VIEWPORTS.map((v) => v.member),
  );
  // A persistent context is how Playwright takes a --user-data-dir: a fresh one per run.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    deviceScaleFactor: 0.5,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  await docsFlow();
  for (const [i, v] of VIEWPORTS.entries()) {
    const ctx = `${v.label} ${v.width}×${v.height}`;
    const page = await browser.newPage();
    await page.setViewportSize({ width: v.width, height: v.height });
    await page.goto(`${server.url}/health`);
    await page.evaluate(() => localStorage.clear());
    const problems = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (msg) => {
      // The 401 and 404 answers the checks provoke on purpose are logged by Chromium as failed loads.
      if (msg.type() === "error" && !/status of (401|404)|Failed to fetch|ERR_CONNECTION_REFUSED/.test(msg.text()))
        problems.push(msg.text());
    });
    await setupToken(page, ctx);
    await memberFlow(page, ctx, v.member, v.label);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    check(`${ctx}: nothing overflows sideways`, wide);
    if (i === VIEWPORTS.length - 1) {
      await memberIdFlow(page, ctx, v.member);
      await errorFlows(page, ctx, v.member);
    }
    check(`${ctx}: no script errors or CSP violations`, problems.length === 0, problems.join(" | "));
    await page.close();
  }
} catch (err) {
  failed++;
  console.error(err);
} finally {
  clearTimeout(overall);
  await cleanup();
}
finish();
