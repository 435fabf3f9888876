const encoder = new TextEncoder();

/** SHA-256 of UTF-8 text, as lower-case hex (badge UIDs, allow-list versions). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
