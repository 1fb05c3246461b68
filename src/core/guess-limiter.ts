/**
 * Counts unknown well-formed tokens per client (SM-55): a client that presents many tokens the
 * store has never issued is guessing, and is refused (429) for the rest of the window without
 * another store lookup. A fixed window per client, held in this process; the client key is the
 * address the adapter determined, so `X-Forwarded-For` counts only behind a trusted proxy.
 */
export class GuessLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #clients = new Map<string, { readonly windowStart: number; count: number }>();

  constructor(options: {
    readonly max: number;
    readonly windowMs: number;
    readonly maxClients: number;
  }) {
    this.#max = options.max;
    this.#windowMs = options.windowMs;
    this.#maxClients = options.maxClients;
  }

  /** Milliseconds until `client` may try again, or 0 when it is not blocked. */
  blockedFor(client: string, now: number): number {
    const entry = this.#clients.get(client);
    if (entry === undefined || entry.count < this.#max) return 0;
    const remaining = entry.windowStart + this.#windowMs - now;
    return remaining > 0 ? remaining : 0;
  }

  /** Counts one unknown token; true when this one reached the limit (alert once per window). */
  recordUnknown(client: string, now: number): boolean {
    let entry = this.#clients.get(client);
    if (entry === undefined || now - entry.windowStart >= this.#windowMs) {
      this.#clients.delete(client);
      // Bounded memory: the oldest window goes first when the table is full.
      if (this.#clients.size >= this.#maxClients) {
        this.#clients.delete(this.#clients.keys().next().value as string);
      }
      entry = { windowStart: now, count: 0 };
      this.#clients.set(client, entry);
    }
    entry.count++;
    return entry.count === this.#max;
  }
}
