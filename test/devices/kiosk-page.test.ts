import { describe, expect, it } from "vitest";
import { expectValidation } from "../helpers/assertions";
import { call, callJson } from "../helpers/http";

function nonceOf(csp: string): string {
  const match = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp);
  expect(match, csp).not.toBeNull();
  return match![1]!;
}

describe("GET /kiosk", () => {
  it("serves the page without a token, with a strict nonce-based CSP", async () => {
    const res = await call("GET", "/kiosk");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = nonceOf(csp);
    expect(csp).toBe(
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; ` +
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("Tap your badge");
    expect(html).toContain('data-idle="60"');
    expect(html).not.toContain("data-setup");
    // Every script and style element carries this response's nonce; nothing loads from elsewhere.
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html.match(/<style\b/g)).toHaveLength(1);
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).not.toMatch(/\bsrc=|https?:\/\//);
    expect(html.match(/<link\b[^>]*>/g)).toEqual(['<link rel="icon" href="data:,">']);
  });

  it("uses a fresh nonce per response", async () => {
    const a = nonceOf((await call("GET", "/kiosk")).headers.get("content-security-policy") ?? "");
    const b = nonceOf((await call("GET", "/kiosk")).headers.get("content-security-policy") ?? "");
    expect(a).not.toBe(b);
  });

  it("takes the idle timeout and the setup switch from the query; trailing slash too", async () => {
    const html = await (await call("GET", "/kiosk/?idle=3&setup=1")).text();
    expect(html).toContain('data-idle="3"');
    expect(html).toContain('data-setup="1"');
  });

  it.each(["0", "3601", "abc"])("rejects idle=%s with 422", async (idle) => {
    expectValidation(await callJson("GET", `/kiosk?idle=${idle}`), ["idle"]);
  });

  it("is listed in /openapi.json as an unauthenticated HTML page", async () => {
    const doc = await callJson<{
      paths: Record<
        string,
        { get?: { security?: unknown[]; responses: Record<string, { description: string; content?: object }> } }
      >;
    }>("GET", "/openapi.json");
    const op = doc.body.paths["/kiosk"]?.get;
    expect(op).toBeDefined();
    expect(op?.security).toEqual([]);
    expect(op?.responses["200"]?.description).toBe("HTML page");
    expect(Object.keys(op?.responses["200"]?.content ?? {})).toEqual(["text/html"]);
  });
});
