import { describe, expect, it } from "vitest";
import { bodyText, call, callJson, envWith } from "../helpers/http";
import { captureLogs } from "../helpers/logs";

/**
 * The console is static files from the ASSETS binding (console/dist, built by `npm test` before
 * vitest runs), served under /admin with the single-page-application fallback.
 */
describe("the admin console's files", () => {
  it("serves the app at /admin/ and at any deep link, with a strict CSP and no token needed", async () => {
    for (const path of ["/admin", "/admin/", "/admin/members/u-1?status=active", "/admin/matrix"]) {
      const res = await call("GET", path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(/^text\/html/);
      const html = await bodyText(res);
      expect(html, path).toContain('<div id="root">');
      expect(html, path).toMatch(/<script type="module" crossorigin src="\/admin\/assets\/[^"]+\.js">/);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("cache-control")).toBe("no-cache");
    }
  });

  it("serves the hashed scripts as immutable JavaScript", async () => {
    const html = await bodyText(await call("GET", "/admin/"));
    const src = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(src).toBeDefined();
    const res = await call("GET", src ?? "");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("answers 405 to other methods on the console's files", async () => {
    expect((await callJson("POST", "/admin/members")).status).toBe(405);
  });

  it("keeps /api/v1 and the other routes for the Worker", async () => {
    expect((await callJson("GET", "/api/v1/skills")).status).toBe(401);
    expect((await callJson("GET", "/health")).body).toEqual({ status: "ok" });
    expect((await callJson("GET", "/no-such-page")).status).toBe(404);
  });

  it("publishes the sign-in settings: none without OIDC, the provider when both variables are set", async () => {
    expect((await callJson("GET", "/admin/config.json")).body).toEqual({ oidc: null });
    const only = envWith({ OIDC_ISSUER: "https://id.example.org" });
    expect((await callJson("GET", "/admin/config.json", { env: only })).body).toEqual({ oidc: null });
    const oidc = envWith({ OIDC_ISSUER: "https://id.example.org/realms/x/", OIDC_CLIENT_ID: "console" });
    const res = await callJson("GET", "/admin/config.json", { env: oidc });
    expect(res.body).toEqual({
      oidc: { issuer: "https://id.example.org/realms/x", client_id: "console", scopes: "openid profile email" },
    });
    // The provider is the one other origin the console may call.
    const page = await call("GET", "/admin/", { env: oidc });
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self' https://id.example.org");
  });

  it("fails closed on an OIDC issuer that is not https (500 config_error naming it)", async () => {
    const logs = captureLogs();
    const res = await callJson<{ error_type: string }>("GET", "/admin/config.json", {
      env: envWith({ OIDC_ISSUER: "http://id.example.org", OIDC_CLIENT_ID: "console" }),
    });
    expect(res.status).toBe(500);
    expect(res.body.error_type).toBe("config_error");
    const named = logs.lines.find((l) => l.msg === "invalid configuration");
    expect(JSON.stringify(named?.variables)).toContain("OIDC_ISSUER");
  });
});
