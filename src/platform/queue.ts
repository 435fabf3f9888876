/** Queues' sendBatch limits: 100 messages and 256 KB per call; kept under both with headroom. */
const SEND_MAX_MESSAGES = 100;
const SEND_MAX_BYTES = 200 * 1024;
const encoder = new TextEncoder();

/** Sends any number of JSON messages in as few `sendBatch` calls as Queues' limits allow. */
export async function sendAll<T>(queue: Queue<T>, bodies: readonly T[]): Promise<void> {
  let part: T[] = [];
  let bytes = 0;
  const flush = async () => {
    if (part.length === 0) return;
    await queue.sendBatch(part.map((body) => ({ body, contentType: "json" as const })));
    part = [];
    bytes = 0;
  };
  for (const body of bodies) {
    const size = encoder.encode(JSON.stringify(body)).byteLength + 100;
    if (part.length >= SEND_MAX_MESSAGES || bytes + size > SEND_MAX_BYTES) await flush();
    part.push(body);
    bytes += size;
  }
  await flush();
}
