import { beforeAll, describe, expect, it } from "vitest";
import { budgetEnv, burst, expectRateLimited, freshWindow, LIMITS, statuses, untilServed } from "../helpers/budgets";
import { uniqueUser } from "../helpers/certifications";
import { randomUid, registerBadge } from "../helpers/devices";
import { makeEquipment } from "../helpers/factories";
import { callJson } from "../helpers/http";
import { captureLogs } from "../helpers/logs";
import { device } from "../helpers/tokens";

/**
 * The badge budget: card lookups per device (TEST_BADGE_BUDGET: LIMITS.badge per 10-second
 * window), an unknown card counting twice, so a stolen controller or kiosk token cannot enumerate
 * card UIDs at speed.
 */
const budgets = budgetEnv();
const RESOLVE = "/api/v1/badges/resolve";
const verify = (id: string) => `/api/v1/skills/access/equipment/${id}/verify`;
let equipmentId: string;
let knownUid: string;

beforeAll(async () => {
  equipmentId = (await makeEquipment()).id;
  knownUid = randomUid();
  await registerBadge(knownUid, "badge-holder");
});

const door = () => device(uniqueUser("door"), "ms-1", "door");
const kiosk = () => device(uniqueUser("kiosk"), "ms-1", "kiosk");

describe("the badge budget", () => {
  it("refuses a door's badge verifies past it, logged with the device, and recovers", async () => {
    const logs = captureLogs();
    const token = await door();
    await freshWindow();
    const answers = await burst(LIMITS.badge + 1, "POST", verify(equipmentId), {
      token,
      body: { badge_uid: knownUid },
      env: budgets,
    });
    expect(statuses(answers)).toEqual([...Array(LIMITS.badge).fill(200), 429]);
    const refused = answers[LIMITS.badge];
    if (!refused) throw new Error("no answer past the budget");
    expectRateLimited(refused);
    expect((refused.body as { detail: string }).detail).toBe(
      `Too many badge lookups: ${LIMITS.badge} a minute per device`,
    );
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ msg: "rate limited", budget: "badge", role: "device", device_kind: "door" }),
    );
    expect(JSON.stringify(logs.lines).toUpperCase()).not.toContain(knownUid.replaceAll(":", "").toUpperCase());

    const again = await untilServed(() =>
      callJson("POST", verify(equipmentId), { token, body: { badge_uid: knownUid }, env: budgets }),
    );
    expect(again.status).toBe(200);
  });

  it("counts an unknown card twice, at verify and at resolve", async () => {
    captureLogs();
    for (const [token, path] of [
      [await door(), verify(equipmentId)],
      [await kiosk(), RESOLVE],
    ] as const) {
      await freshWindow();
      const unknown = await callJson("POST", path, { token, body: { badge_uid: randomUid() }, env: budgets });
      expect(unknown.status, path).toBe(path === RESOLVE ? 404 : 403);
      // LIMITS.badge is 2: the unknown card took both units, so even a known card is refused now.
      expectRateLimited(await callJson("POST", path, { token, body: { badge_uid: knownUid }, env: budgets }));
    }
  });

  it("counts a kiosk's resolves of known cards once each", async () => {
    captureLogs();
    const token = await kiosk();
    await freshWindow();
    const answers = await burst(LIMITS.badge + 1, "POST", RESOLVE, {
      token,
      body: { badge_uid: knownUid },
      env: budgets,
    });
    expect(statuses(answers)).toEqual([...Array(LIMITS.badge).fill(200), 429]);
  });

  it("is not spent by verifies by user id", async () => {
    const token = await door();
    await freshWindow();
    const byUser = await burst(LIMITS.badge * 3, "POST", verify(equipmentId), {
      token,
      body: { user_id: "badge-holder" },
      env: budgets,
    });
    expect(statuses(byUser)).not.toContain(429);
    const byBadge = await burst(LIMITS.badge, "POST", verify(equipmentId), {
      token,
      body: { badge_uid: knownUid },
      env: budgets,
    });
    expect(statuses(byBadge)).toEqual(Array(LIMITS.badge).fill(200));
  });

  it("is per device: one door spending it does not slow another", async () => {
    captureLogs();
    const noisy = await door();
    const quiet = await door();
    await freshWindow();
    await burst(LIMITS.badge + 1, "POST", verify(equipmentId), {
      token: noisy,
      body: { badge_uid: randomUid() },
      env: budgets,
    });
    const res = await callJson("POST", verify(equipmentId), {
      token: quiet,
      body: { badge_uid: knownUid },
      env: budgets,
    });
    expect(res.status).toBe(200);
  });

  it("is off at 0", async () => {
    const off = budgetEnv({ RATE_BADGE_PER_MINUTE: "0" });
    const answers = await burst(LIMITS.badge * 3, "POST", verify(equipmentId), {
      token: await door(),
      body: { badge_uid: randomUid() },
      env: off,
    });
    expect(statuses(answers)).toEqual(Array(LIMITS.badge * 3).fill(403));
  });

  it("is declared on the routes that look cards up", async () => {
    const doc = (
      await callJson<{ paths: Record<string, Record<string, Record<string, unknown>>> }>("GET", "/openapi.json")
    ).body;
    expect(doc.paths["/api/v1/skills/access/equipment/{equipment_id}/verify"]?.post?.["x-budgets"]).toEqual({
      budgets: ["caller", "badge"],
      caller_exempt: ["door", "machine"],
    });
    expect(doc.paths[RESOLVE]?.post?.["x-budgets"]).toEqual({ budgets: ["caller", "badge"], caller_exempt: [] });
    expect(doc.paths["/api/v1/skills"]?.get?.["x-budgets"]).toEqual({ budgets: ["caller"], caller_exempt: [] });
  });
});
