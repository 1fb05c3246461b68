import { isIPv6 } from 'node:net';

/**
 * SM-55 (ASVS 6.3.1, OWASP Authentication Cheat Sheet "Login Throttling"): failed password
 * checks are counted per account and per client, in fixed windows, in memory. Past a limit the
 * demo answers 429 without checking the password at all, so guessing costs the attacker time
 * and costs the server no scrypt work. A correct password is never slowed before the limit.
 *
 * The per-account limit counts every submitted email, registered or not: throttling only real
 * accounts would tell an attacker which emails exist. It also means anyone can lock an account
 * out of password sign-in for one window by guessing wrong on purpose; the per-client limit
 * alone would not stop a botnet spreading guesses over one account, so the demo accepts that.
 *
 * In memory and per process: several instances each count on their own, and a restart forgets.
 */
export interface LoginThrottleOptions {
  /** Failed attempts per account within a window before it is throttled. @default 5 */
  readonly maxFailuresPerAccount?: number;
  /** Failed attempts per client (IPv4 address or IPv6 /64) within a window. @default 20 */
  readonly maxFailuresPerClient?: number;
  /** @default 900 */
  readonly windowSeconds?: number;
  /**
   * Most accounts, and most clients, tracked at once. When full, expired windows go first,
   * then the oldest ones: memory stays bounded under a flood of made-up emails or addresses.
   * @default 10000
   */
  readonly maxTracked?: number;
  /** The clock, in milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** Who is trying: the normalised email (null if none) and the client key from {@link clientKey}. */
export interface LoginAttempt {
  readonly account: string | null;
  readonly client: string | null;
}

export interface LoginThrottle {
  /** Whole seconds until this attempt may be made (for `Retry-After`), or 0 when it may now. */
  retryAfterSeconds(attempt: LoginAttempt): number;
  /** A wrong password: counts against the account and the client. */
  recordFailure(attempt: LoginAttempt): void;
  /**
   * A correct password: the account starts afresh. The client's count stays, or one valid
   * account of the attacker's own would wipe the count of guesses at everyone else's.
   */
  recordSuccess(attempt: LoginAttempt): void;
}

/**
 * @example
 * ```ts
 * const throttle = createLoginThrottle();
 * const attempt = { account: 'alice@example.com', client: clientKey(req.ip ?? null) };
 * if (throttle.retryAfterSeconds(attempt) > 0) return tooManyAttempts(res);
 * ```
 */
export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const now = options.now ?? Date.now;
  const windowMs = (options.windowSeconds ?? 900) * 1000;
  const maxTracked = options.maxTracked ?? 10_000;
  const accounts = new WindowCounter(options.maxFailuresPerAccount ?? 5, windowMs, maxTracked);
  const clients = new WindowCounter(options.maxFailuresPerClient ?? 20, windowMs, maxTracked);
  return {
    retryAfterSeconds({ account, client }) {
      const at = now();
      const waitMs = Math.max(accounts.blockedFor(account, at), clients.blockedFor(client, at));
      return Math.ceil(waitMs / 1000);
    },
    recordFailure({ account, client }) {
      const at = now();
      accounts.hit(account, at);
      clients.hit(client, at);
    },
    recordSuccess({ account }) {
      accounts.clear(account);
    },
  };
}

interface Window {
  count: number;
  readonly endsAt: number;
}

/** Failures per key in fixed windows, at most `maxTracked` keys. */
class WindowCounter {
  // Insertion order is window start order (a new window re-inserts its key), so the oldest and
  // the expired windows are always at the front.
  readonly #windows = new Map<string, Window>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxTracked: number;

  constructor(limit: number, windowMs: number, maxTracked: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#maxTracked = maxTracked;
  }

  /** Milliseconds until `key` is below the limit again, or 0. */
  blockedFor(key: string | null, now: number): number {
    const window = key === null ? undefined : this.#windows.get(key);
    if (window === undefined || window.endsAt <= now || window.count < this.#limit) return 0;
    return window.endsAt - now;
  }

  hit(key: string | null, now: number): void {
    if (key === null) return;
    const window = this.#windows.get(key);
    if (window !== undefined && window.endsAt > now) {
      window.count += 1;
      return;
    }
    this.#windows.delete(key);
    this.#windows.set(key, { count: 1, endsAt: now + this.#windowMs });
    this.#evict(now);
  }

  clear(key: string | null): void {
    if (key !== null) this.#windows.delete(key);
  }

  #evict(now: number): void {
    for (const [key, window] of this.#windows) {
      if (this.#windows.size <= this.#maxTracked && window.endsAt > now) return;
      this.#windows.delete(key);
    }
  }
}

/**
 * The client a failure counts against: `req.ip`, which honours `X-Forwarded-For` only when
 * Express's `trust proxy` trusts the hop that sent it, so a client cannot reset its count by
 * inventing a new header each time. IPv6 clients count per /64, the block one subscriber gets
 * (RFC 6177), since rotating within it is free; IPv4-mapped addresses count as IPv4.
 *
 * @example
 * ```ts
 * clientKey('2001:db8:1:2:3:4:5:6'); // '2001:db8:1:2::/64'
 * ```
 */
export function clientKey(ip: string | null): string | null {
  if (ip === null || ip === '') return null;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1] !== undefined) return mapped[1];
  const address = ip.split('%', 1)[0] ?? ip;
  return isIPv6(address) ? `${ipv6Groups(address).slice(0, 4).join(':')}::/64` : ip;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const split = (part: string): string[] =>
    part === ''
      ? []
      : // A trailing dotted IPv4 part fills the last two groups, which a /64 never looks at.
        part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
  const left = split(head);
  const right = tail === undefined ? [] : split(tail);
  const zeros: string[] = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}
