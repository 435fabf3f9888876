/** When a read that may fill the cache began: see {@link TtlCache.ticket}. */
export interface FillTicket {
  readonly seq: number;
  readonly at: number;
}

export interface TtlCacheOptions {
  /** Entries kept at most; the oldest stored is dropped first. */
  maxEntries: number;
  /** How long an entry may be served, counted from when its value was read. */
  maxAgeMs: number;
}

interface Entry<V> {
  value: V;
  storedAt: number;
  expiresAt: number;
}

/**
 * The per-isolate cache behind every hot-path memo (equipment requirements, device rows, verified
 * tokens, members' certifications): bounded in entries and in age, and safe under the concurrency
 * of one isolate serving many requests at once.
 *
 * - **Age is wall-clock age of the value.** A value read from storage is stored with the time its
 *   read began (its ticket), so a slow read cannot make an old value look fresh.
 * - **An entry newer than the reader's clock is served, not dropped.** Requests interleave: one
 *   that began earlier may read an entry stored by one that began later. Only an entry dated more
 *   than `maxAgeMs` ahead (the clock went back) is discarded.
 * - **An invalidation wins over fills in flight.** `delete` (a change made through this isolate)
 *   refuses every fill whose read began before it, so a read that raced the change cannot put the
 *   old value back; and a fill never replaces an entry whose read began later than its own.
 */
export class TtlCache<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  #seq = 0;
  #invalidatedAt = 0;

  constructor(options: TtlCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxAgeMs = options.maxAgeMs;
  }

  /** The value, or undefined when absent or too old. */
  get(key: K, nowMs = Date.now()): V | undefined {
    return this.entry(key, nowMs)?.value;
  }

  /** The value with the time its read began. */
  entry(key: K, nowMs = Date.now()): { value: V; storedAt: number } | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    if (nowMs > hit.expiresAt || hit.storedAt - nowMs > this.#maxAgeMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit;
  }

  /** Take one before reading a value that {@link fill} may store. */
  ticket(nowMs = Date.now()): FillTicket {
    this.#seq += 1;
    return { seq: this.#seq, at: nowMs };
  }

  /**
   * Stores a value read since `ticket`, aged from the ticket, unless the cache was invalidated
   * after the ticket was taken or holds a value whose read began later. `expiresAt` (ms) can
   * shorten the entry's life (a token's `exp`). Returns whether it was stored.
   */
  fill(key: K, value: V, ticket: FillTicket, expiresAt = Number.POSITIVE_INFINITY): boolean {
    if (ticket.seq <= this.#invalidatedAt) return false;
    const current = this.#entries.get(key);
    if (current && current.storedAt > ticket.at) return false;
    this.#store(key, { value, storedAt: ticket.at, expiresAt: Math.min(ticket.at + this.#maxAgeMs, expiresAt) });
    return true;
  }

  /** Drops the key, and refuses every fill whose read began before now. */
  delete(key: K): void {
    this.#entries.delete(key);
    this.#invalidate();
  }

  /** Drops every key that matches, and refuses every fill whose read began before now. */
  deleteWhere(matches: (key: K) => boolean): void {
    for (const key of this.#entries.keys()) if (matches(key)) this.#entries.delete(key);
    this.#invalidate();
  }

  clear(): void {
    this.#entries.clear();
    this.#invalidate();
  }

  get size(): number {
    return this.#entries.size;
  }

  #invalidate(): void {
    this.#seq += 1;
    this.#invalidatedAt = this.#seq;
  }

  #store(key: K, entry: Entry<V>): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry);
  }
}
