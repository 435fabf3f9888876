import { describe, expect, it } from "vitest";
import { checkWebhookUrl } from "../../src/webhooks/url-guard";

const allowed = (url: string, local = false) => checkWebhookUrl(url, local).ok;

describe("webhook URLs (no SSRF)", () => {
  it.each([
    "https://hooks.example.com/makrcave",
    "https://hooks.example.com:8443/in?token=abc",
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://[::ffff:8.8.8.8]/hook",
    "https://xn--bcher-kva.example/hook",
  ])("accepts %s", (url) => {
    expect(checkWebhookUrl(url, false)).toEqual({ ok: true, url: new URL(url).href });
  });

  it.each([
    ["plain http", "http://hooks.example.com/"],
    ["another scheme", "ftp://hooks.example.com/"],
    ["javascript:", "javascript:alert(1)"],
    ["not a URL", "hooks.example.com/in"],
    ["credentials", "https://user:pass@hooks.example.com/"],
    ["localhost", "https://localhost/"],
    ["localhost with a trailing dot", "https://localhost./"],
    ["a .localhost name", "https://app.localhost/"],
    ["an .internal name", "https://metadata.google.internal/"],
    ["a .local name", "https://printer.local/"],
    ["a .home.arpa name", "https://nas.home.arpa/"],
    ["a single-label name", "https://intranet/"],
    ["loopback", "https://127.0.0.1/"],
    ["loopback elsewhere in 127/8", "https://127.8.9.10/"],
    ["loopback in hex", "https://0x7f.0.0.1/"],
    ["loopback as one number", "https://2130706433/"],
    ["loopback, octal", "https://0177.0.0.1/"],
    ["0.0.0.0", "https://0.0.0.0/"],
    ["10/8", "https://10.1.2.3/"],
    ["172.16/12", "https://172.31.255.255/"],
    ["192.168/16", "https://192.168.1.1/"],
    ["link-local (cloud metadata)", "https://169.254.169.254/latest/meta-data"],
    ["carrier-grade NAT", "https://100.64.0.1/"],
    ["multicast", "https://224.0.0.1/"],
    ["broadcast", "https://255.255.255.255/"],
    ["documentation", "https://203.0.113.5/"],
    ["IPv6 loopback", "https://[::1]/"],
    ["IPv6 unspecified", "https://[::]/"],
    ["IPv6 unique local", "https://[fd00::1]/"],
    ["IPv6 link-local", "https://[fe80::1]/"],
    ["IPv6 multicast", "https://[ff02::1]/"],
    ["IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/"],
    ["IPv4-mapped private", "https://[::ffff:10.0.0.1]/"],
    ["NAT64 of a private address", "https://[64:ff9b::a00:1]/"],
    ["6to4 of a private address", "https://[2002:c0a8:101::1]/"],
    ["IPv6 documentation", "https://[2001:db8::1]/"],
  ])("refuses %s", (_why, url) => {
    expect(checkWebhookUrl(url, false)).toMatchObject({ ok: false, reason: expect.any(String) });
  });

  it("refuses URLs over 2,000 characters", () => {
    const base = "https://hooks.example.com/";
    expect(allowed(base + "a".repeat(2000 - base.length))).toBe(true);
    expect(allowed(base + "a".repeat(2001 - base.length))).toBe(false);
  });

  it("locally (ALLOW_UNREGISTERED_DEVICES) allows 127.0.0.1 and localhost, over http too, and nothing else more", () => {
    expect(allowed("http://127.0.0.1:9999/hook", true)).toBe(true);
    expect(allowed("http://localhost:9999/hook", true)).toBe(true);
    expect(allowed("https://127.0.0.1/hook", true)).toBe(true);
    expect(allowed("http://127.0.0.2/hook", true)).toBe(false);
    expect(allowed("http://10.0.0.1/hook", true)).toBe(false);
    expect(allowed("http://[::1]/hook", true)).toBe(false);
    expect(allowed("http://hooks.example.com/", true)).toBe(false);
    expect(allowed("http://user:pw@127.0.0.1/", true)).toBe(false);
    expect(allowed("http://127.0.0.1:9999/hook", false)).toBe(false);
  });
});
