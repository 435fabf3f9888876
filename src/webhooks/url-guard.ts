/**
 * Which URLs a webhook may call (no SSRF): `https` to a public host. Refused: credentials in the
 * URL; hosts that name this machine or a private network (`localhost`, `*.localhost`,
 * `*.internal`, `*.local`, `*.lan`, `*.home.arpa`, `*.intranet`, single-label names); IPv4 and IPv6
 * literals in loopback, private, link-local, shared, multicast, documentation and reserved
 * ranges, including IPv4 written in hex or as one number (the URL parser normalises them) and IPv4
 * inside IPv6 (mapped, NAT64). With `allowLocal` (local development, `ALLOW_UNREGISTERED_DEVICES`),
 * `http` or `https` to `127.0.0.1` or `localhost` is allowed too — and nothing else more.
 *
 * Checked when a webhook is saved and again before every delivery. A public name that resolves
 * to a private address is not caught here (Workers cannot resolve names); deployed Workers'
 * `fetch` does not reach private networks, and redirects are never followed.
 */
export const MAX_WEBHOOK_URL_LENGTH = 2000;

export type UrlVerdict = { ok: true; url: string } | { ok: false; reason: string };

const PRIVATE_SUFFIXES = [".localhost", ".internal", ".local", ".lan", ".home.arpa", ".intranet", ".localdomain"];

export function checkWebhookUrl(raw: string, allowLocal: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "must be an absolute URL" };
  }
  if (raw.length > MAX_WEBHOOK_URL_LENGTH)
    return { ok: false, reason: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` };
  if (url.username || url.password) return { ok: false, reason: "must not carry credentials" };
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const local = host === "127.0.0.1" || host === "localhost";
  if (allowLocal && local && (url.protocol === "http:" || url.protocol === "https:"))
    return { ok: true, url: url.href };
  if (url.protocol !== "https:") {
    return { ok: false, reason: allowLocal ? "must be https (http only to 127.0.0.1 or localhost)" : "must be https" };
  }
  const refused = refusedHost(host);
  return refused ? { ok: false, reason: refused } : { ok: true, url: url.href };
}

function refusedHost(host: string): string | undefined {
  if (host.startsWith("["))
    return privateIpv6(host.slice(1, -1)) ? "must not be a private or reserved address" : undefined;
  const v4 = parseIpv4(host);
  if (v4) return privateIpv4(v4) ? "must not be a private or reserved address" : undefined;
  if (host === "localhost" || PRIVATE_SUFFIXES.some((s) => host.endsWith(s)))
    return "must not name a local or internal host";
  if (!host.includes(".")) return "must be a fully qualified public host name";
  return undefined;
}

/** The four numbers of a dotted IPv4 literal (the URL parser has already normalised other forms). */
function parseIpv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

/** Not globally routable: RFC 6890's special-purpose ranges that a receiver cannot be in. */
export function privateIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF protocol assignments, TEST-NET-1
    (a === 192 && b === 88 && c === 99) || // 6to4 relay
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) || // TEST-NET-3
    a >= 224 // multicast, reserved, broadcast
  );
}

/** Eight 16-bit groups of an IPv6 literal (as the URL parser serialises it: compressed, lower case). */
function parseIpv6(text: string): number[] | undefined {
  let s = text;
  // A trailing dotted IPv4 (the parser writes these as hex, but be safe).
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1]) {
    const parts = parseIpv4(v4[1]);
    if (!parts) return undefined;
    s = `${s.slice(0, -v4[1].length)}${((parts[0] ?? 0) * 256 + (parts[1] ?? 0)).toString(16)}:${((parts[2] ?? 0) * 256 + (parts[3] ?? 0)).toString(16)}`;
  }
  const [head = "", tail] = s.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 0) return undefined;
  const groups = [...left, ...Array(tail === undefined ? 0 : missing).fill("0"), ...right].map((g) =>
    Number.parseInt(g, 16),
  );
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

export function privateIpv6(text: string): boolean {
  const g = parseIpv6(text);
  if (!g) return true;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embeddedV4 = [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    if (g5 === 0xffff) return privateIpv4(embeddedV4); // IPv4-mapped
    return true; // unspecified, loopback, IPv4-compatible (deprecated)
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return privateIpv4(embeddedV4); // NAT64
  if (g0 === 0x2002) return privateIpv4([g1 >> 8, g1 & 0xff, g2 >> 8, g2 & 0xff]); // 6to4
  if ((g0 & 0xe000) !== 0x2000) return true; // outside global unicast 2000::/3 (ULA, link-local, multicast…)
  if (g0 === 0x2001 && g1 === 0xdb8) return true; // documentation
  if (g0 === 0x2001 && g1 < 0x200) return true; // IETF protocol assignments (Teredo, benchmarking, ORCHID)
  return false;
}
