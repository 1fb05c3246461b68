/**
 * The contract between the session manager and a storage backend.
 *
 * A store never sees a token: records are keyed by the public session id and found by the
 * SHA-256 hash of the token (SM-50). Application data and client metadata arrive already
 * sealed (AES-256-GCM), so a store handles opaque strings and a few timestamps.
 *
 * All times are milliseconds since the Unix epoch; a deadline equal to `now` has passed. A
 * store may drop records whose deadline passed by its own clock (native TTLs) but must never
 * drop a live one. Every method either resolves or rejects (never throws synchronously);
 * a store that cannot reach its server rejects, and the manager turns that into a
 * `StoreUnavailableError` (503). The conformance suite in `strongroom/testing` checks all
 * of this against a real backend.
 */
export interface StoredSession {
  /** Public session id (base64url, 128 bits). Stable across token rotation. */
  readonly id: string;
  /** base64url SHA-256 of the current token. */
  readonly tokenHash: string;
  /** The signed-in user, or null for an anonymous session that holds data. */
  readonly userId: string | null;
  readonly createdAt: number;
  /** When the user last proved who they are (login, step-up); null when anonymous. */
  readonly authenticatedAt: number | null;
  readonly lastSeenAt: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  /** When the current token was issued. */
  readonly rotatedAt: number;
  /** Incremented on every write; updates are compare-and-set on it. */
  readonly version: number;
  /** Encrypted application data, client metadata and CSRF secret. Opaque to the store. */
  readonly sealed: string;
}

/** What a token hash resolves to. */
export interface TokenMatch {
  readonly session: StoredSession;
  /**
   * Null when the hash is the session's current token. When the hash belongs to a token that
   * rotation retired, the time until which that token is still honoured (grace window); after
   * it, presenting the token is treated as theft.
   */
  readonly retiredGraceUntil: number | null;
}

/** A token that rotation retired, kept for the grace window and for theft detection. */
export interface RetiredToken {
  readonly tokenHash: string;
  readonly graceUntil: number;
}

/** The earlier of the two deadlines: when a record may be dropped by the store. */
export function expiresAt(session: StoredSession): number {
  return Math.min(session.idleExpiresAt, session.absoluteExpiresAt);
}

export interface SessionStore {
  /**
   * Finds the session whose current token, or a token rotation retired, hashes to `tokenHash`.
   * One round trip. May return an expired session: the manager checks deadlines itself.
   */
  findByTokenHash(tokenHash: string): Promise<TokenMatch | null>;

  /** Reads a session by its public id. */
  findById(id: string): Promise<StoredSession | null>;

  /**
   * Inserts a new session and, in the same atomic step, deletes the session `replaces` (with
   * its retired tokens) when given. Used at creation and login (fixation defence, SM-16).
   * Rejects, changing nothing, when the id is already in use.
   */
  insert(session: StoredSession, options: { readonly replaces: string | null }): Promise<void>;

  /**
   * Replaces the stored session if and only if it still exists with version
   * `session.version - 1`. Returns false otherwise (it was changed concurrently, or deleted:
   * a deleted session is never recreated, SM-31). When `retire` is given, the token hash it
   * names is kept as a retired token of this session until the session's absolute expiry.
   */
  update(
    session: StoredSession,
    options: { readonly retire: RetiredToken | null },
  ): Promise<boolean>;

  /** Deletes a session and its retired tokens. Returns whether it existed. */
  delete(id: string): Promise<boolean>;

  /**
   * Deletes every session of `userId` except `except`, atomically with respect to the user's
   * index. Returns the ids deleted.
   */
  deleteByUser(userId: string, options: { readonly except: string | null }): Promise<string[]>;

  /** Lists the sessions of `userId` that have not yet expired at `now`, in any order. */
  listByUser(userId: string, now: number): Promise<StoredSession[]>;

  /**
   * Deletes at most `limit` sessions (and retired tokens) that expired before `now`. Returns
   * how many sessions were deleted, so a caller can keep going while it returns `limit`.
   * Stores with native TTLs may return 0.
   */
  purgeExpired(now: number, limit: number): Promise<number>;

  /** Releases connections and timers. Safe to call twice; later calls to other methods reject. */
  close(): Promise<void>;
}
