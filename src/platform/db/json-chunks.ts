/**
 * D1 binds at most 100 parameters and 100 KB of SQL per statement. Bulk statements therefore bind
 * ONE parameter — a JSON array read with `json_each` — and these helpers keep each array under
 * `maxBytes` (UTF-8), so a statement's size does not grow with the number of rows.
 */
export const JSON_PARAM_MAX_BYTES = 90_000;

const utf8 = new TextEncoder();

/** The UTF-8 size of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return utf8.encode(JSON.stringify(value)).byteLength;
}

/**
 * Splits items into arrays whose JSON stays under `maxBytes` (one oversized item goes alone).
 * `sizeOf` measures an item when what is bound is not the item itself.
 */
export function jsonChunks<T>(
  items: readonly T[],
  maxBytes = JSON_PARAM_MAX_BYTES,
  sizeOf: (item: T) => number = jsonBytes,
): T[][] {
  const out: T[][] = [];
  let part: T[] = [];
  let bytes = 2;
  for (const item of items) {
    const size = sizeOf(item) + 1;
    if (part.length > 0 && bytes + size > maxBytes) {
      out.push(part);
      part = [];
      bytes = 2;
    }
    part.push(item);
    bytes += size;
  }
  if (part.length > 0) out.push(part);
  return out;
}
