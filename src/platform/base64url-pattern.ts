const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ANY = "[A-Za-z0-9_-]";

/** The alphabet characters at these indexes as a class, runs of three or more as ranges. */
function charClass(indexes: Iterable<number>): string {
  const chars = [...new Set(indexes)].sort((a, b) => a - b).map((i) => ALPHABET.charAt(i));
  const runs: string[][] = [];
  for (const c of chars) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (run && last !== undefined && c.charCodeAt(0) === last.charCodeAt(0) + 1) run.push(c);
    else runs.push([c]);
  }
  const inClass = (c: string) => (c === "-" ? "\\-" : c);
  const body = runs
    .map((run) => (run.length >= 3 ? `${run[0]}-${run[run.length - 1]}` : run.map(inClass).join("")))
    .join("");
  return chars.length === 1 ? (chars[0] ?? "") : `[${body}]`;
}

function alternatives(parts: string[]): string {
  return parts.length === 1 ? (parts[0] ?? "") : `(?:${parts.join("|")})`;
}

function codes(allowed: string): number[] {
  return [...allowed].map((c) => {
    const code = c.charCodeAt(0);
    if (code > 0x7f) throw new Error(`not a single byte: ${c}`);
    return code;
  });
}

/** The one value `f(code)` takes over `allowed`; the pattern is exact only when it is the same for all. */
function uniform(allowed: string, f: (code: number) => number): number {
  const values = new Set(codes(allowed).map(f));
  if (values.size !== 1) throw new Error(`the characters "${allowed}" differ in their bits ${[...values]}`);
  return [...values][0] ?? 0;
}

/**
 * The four characters encoding three bytes, each from its own set of characters. The first byte's
 * six high bits and two low bits land in two characters (listed as pairs); the second and third
 * bytes' free bits land in one character each, so those sets must share the bits that cross
 * characters (true of digits and the punctuation of a timestamp).
 */
function group(first: string, second: string, third: string): string {
  const high2 = uniform(second, (b) => b >> 4);
  const high3 = uniform(third, (b) => b >> 6);
  const byLead = new Map<number, number[]>();
  for (const b of codes(first)) {
    byLead.set(b >> 2, [...(byLead.get(b >> 2) ?? []), ((b & 3) << 4) | high2]);
  }
  const pairs = [...byLead].sort(([a], [b]) => a - b).map(([lead, next]) => charClass([lead]) + charClass(next));
  return (
    alternatives(pairs) +
    charClass(codes(second).map((b) => ((b & 15) << 2) | high3)) +
    charClass(codes(third).map((b) => b & 63))
  );
}

/**
 * A regular expression (source, anchored) matching exactly the unpadded base64url encodings of a
 * fixed-shape head, a separator, then one or more bytes of any value. The head is given position
 * by position as the characters allowed there, and fills whole base64 groups (a multiple of three
 * bytes), so the separator starts a group of its own.
 */
export function base64urlPattern(head: readonly string[], separator: string): string {
  if (head.length % 3 !== 0) throw new Error("the head must be a multiple of three bytes");
  let source = "^";
  for (let i = 0; i < head.length; i += 3) source += group(head[i] ?? "", head[i + 1] ?? "", head[i + 2] ?? "");
  const [sep] = codes(separator);
  if (sep === undefined || separator.length !== 1) throw new Error("the separator is one byte");
  const afterSep = Array.from({ length: 16 }, (_, low) => ((sep & 3) << 4) | low);
  // After the separator's two characters: 1 more (one byte follows it), or 2 more closing its
  // group, whole groups, then a last group of 2 or 3 characters (a lone character encodes nothing).
  const rest = `(?:${ANY}|${ANY}{2}(?:${ANY}{4})*(?:${ANY}{2,3})?)`;
  return `${source}${charClass([sep >> 2])}${charClass(afterSep)}${rest}$`;
}
