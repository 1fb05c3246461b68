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

/** The session a new one replaces (login, regenerate): the version the caller last read. */
export interface ReplacedSession {
  readonly id: string;
  readonly version: number;
}

/** A cap on the live sessions of one user (SM-34), enforced by the store in the insert. */
export interface UserSessionLimit {
  /** At most this many sessions of the user are live (expiry after `now`) once the insert is done. */
  readonly max: number;
  /**
   * `refuse`: the insert changes nothing and reports `limit-reached`. `evict-oldest`: the user's
   * least recently used live sessions (smallest `lastSeenAt`, then `createdAt`, then `id`) are
   * deleted, in the same atomic step, to make room.
   */
  readonly policy: 'refuse' | 'evict-oldest';
  /** The manager's clock: sessions whose earlier deadline is at or before it do not count. */
  readonly now: number;
}

export interface InsertOptions {
  /**
   * The session this one replaces, deleted (with its retired tokens) in the same atomic step.
   * When it no longer exists at exactly that version (logged out, revoked, expired and purged,
   * or written concurrently), the insert changes nothing and reports `conflict`: a session that
   * was ended never comes back through a replacement (SM-31).
   */
  readonly replaces: ReplacedSession | null;
  /** Applies when the new session has a user id; the replaced session does not count. */
  readonly limit: UserSessionLimit | null;
}

/** What an insert did. Only `inserted` changed anything. */
export type InsertResult =
  | {
      readonly status: 'inserted';
      /** Sessions deleted to respect the limit. */ readonly evicted: readonly string[];
    }
  | { readonly status: 'conflict' }
  | { readonly status: 'limit-reached' };

export interface DeleteAllOptions {
  /** Only sessions with `createdAt` strictly before this instant are deleted. */
  readonly createdBefore: number;
  /** At most this many sessions are deleted by one call. */
  readonly limit: number;
  /** Null for the first call of a pass; then the cursor the previous call returned. */
  readonly cursor: string | null;
}

export interface DeleteAllResult {
  /** Ids of the sessions this call deleted. */
  readonly deleted: readonly string[];
  /** Where the next call continues, or null when this pass has covered the whole store. */
  readonly cursor: string | null;
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
   * Inserts a new session, in one atomic step with the deletion of the session it replaces and
   * with the user's session limit. Rejects, changing nothing, when the id or the token hash is
   * already in use.
   */
  insert(session: StoredSession, options: InsertOptions): Promise<InsertResult>;

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
   * index and to concurrent inserts that replace one of them: once it resolves, no session of
   * the user that existed when it was called, nor a replacement of one, is left. Returns the
   * ids deleted.
   */
  deleteByUser(userId: string, options: { readonly except: string | null }): Promise<string[]>;

  /**
   * Deletes sessions created before `createdBefore`, every user's and anonymous ones, in
   * bounded batches (incident response, SM-30). The manager calls it until a whole pass (from
   * a null cursor until a null cursor comes back) deletes nothing, so a store may revisit
   * sessions or return fewer than `limit` mid-pass; it must never hold more than about `limit`
   * sessions in memory at once.
   */
  deleteAll(options: DeleteAllOptions): Promise<DeleteAllResult>;

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
