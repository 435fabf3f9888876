/**
 * KV accepts at most one write per second to a key; a second one is refused with 429. This
 * paces this isolate's writes of each key to one a second and retries a refusal caused by
 * another isolate or location — so a change is never written once and then silently lost.
 */
export const KV_WRITE_INTERVAL_MS = 1000;

/** KV's refusal of a write over the per-key rate (`KV PUT failed: 429 Too Many Requests`). */
export function isKvRateLimited(err: unknown): boolean {
  return err instanceof Error && /\b429\b|too many requests/i.test(err.message);
}

/** The latest write of a key this isolate made or has scheduled. */
interface Slot {
  /**
   * When it goes out (ms); once settled, when it ended — the write reaches KV at some point
   * between, so the next one waits a second from the end.
   */
  at: number;
  /** It has begun: its value was (is being) read, so a change committed now is not in it. */
  started: boolean;
  settled: boolean;
  ok: boolean;
}

const slots = new Map<string, Slot>();
const MAX_TRACKED_KEYS = 5_000;
const JOIN_POLL_MS = 20;
const JOIN_PATIENCE_MS = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function remember(key: string, slot: Slot): void {
  if (slots.size >= MAX_TRACKED_KEYS) {
    const before = Date.now() - KV_WRITE_INTERVAL_MS;
    for (const [k, s] of slots) if (s.settled && s.at < before) slots.delete(k);
  }
  slots.set(key, slot);
}

/**
 * The key's latest write. One due more than JOIN_PATIENCE_MS ago and still not settled (its
 * request was cancelled before or during the write) is taken as failed, so it cannot hold the
 * key forever.
 */
function latestWrite(key: string): Slot | undefined {
  const slot = slots.get(key);
  if (slot && !slot.settled && Date.now() - slot.at > JOIN_PATIENCE_MS) {
    slot.at = Date.now();
    slot.settled = true;
  }
  return slot;
}

/** Waits (polling: no promise crosses requests) for a write to settle, within JOIN_PATIENCE_MS. */
async function settled(slot: Slot): Promise<void> {
  await sleep(slot.at - Date.now());
  const deadline = Date.now() + JOIN_PATIENCE_MS;
  while (!slot.settled && Date.now() < deadline) await sleep(JOIN_POLL_MS);
}

/**
 * Writes `key` once it may: a second after this isolate's previous write of it ended. `write`
 * computes its value when it runs, after the wait, so whatever committed before the call is in
 * it. A call that finds a write of the key scheduled but not yet begun joins it instead of adding
 * its own (coalescing: ten changes of one user in a second cost two writes, not ten seconds). A
 * 429 — another isolate or location wrote the key within the second — is tried again a second
 * later, up to `attempts` writes of this call; then KV's refusal is thrown. Resolves once a value
 * that covers this call is written.
 */
export async function pacedWrite(key: string, write: () => Promise<void>, attempts = 3): Promise<void> {
  let lastError: unknown;
  let tries = 0;
  const giveUpAt = Date.now() + (attempts + 1) * (KV_WRITE_INTERVAL_MS + JOIN_PATIENCE_MS);
  while (tries < attempts && Date.now() < giveUpAt) {
    const latest = latestWrite(key);
    if (latest && !latest.settled) {
      const joining = !latest.started;
      await settled(latest);
      if (joining && latest.settled && latest.ok) return;
      continue;
    }
    const at = latest ? Math.max(Date.now(), latest.at + KV_WRITE_INTERVAL_MS) : Date.now();
    const mine: Slot = { at, started: false, settled: false, ok: false };
    remember(key, mine);
    await sleep(at - Date.now());
    mine.started = true;
    tries += 1;
    try {
      await write();
      mine.ok = true;
      return;
    } catch (err) {
      // A refusal means a write landed less than a second ago: the next try counts from now.
      if (!isKvRateLimited(err)) throw err;
      lastError = err;
    } finally {
      mine.at = Date.now();
      mine.settled = true;
    }
  }
  throw lastError ?? new Error(`KV write of ${key} not made: 429 Too Many Requests (other writes kept failing)`);
}

/**
 * Writes `key` now unless this isolate wrote it, or has a write of it scheduled, within the last
 * second — then returns null and writes nothing (a reader's fill, a cleanup: the entry is being
 * or was just written). Otherwise claims the key's second and returns the write.
 */
export function writeNowUnlessRecent(key: string, write: () => Promise<void>): Promise<void> | null {
  const now = Date.now();
  const latest = latestWrite(key);
  if (latest && (!latest.settled || now - latest.at < KV_WRITE_INTERVAL_MS)) return null;
  const mine: Slot = { at: now, started: true, settled: false, ok: false };
  remember(key, mine);
  const settle = (ok: boolean) => {
    mine.at = Date.now();
    mine.ok = ok;
    mine.settled = true;
  };
  return write().then(
    () => settle(true),
    (err: unknown) => {
      settle(false);
      throw err;
    },
  );
}

/** Test hook: forget every write this isolate made (as a fresh isolate would). */
export function clearKvPacing(): void {
  slots.clear();
}
