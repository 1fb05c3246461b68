import { generateCSRFSecret, maskCSRFToken, verifyCSRFToken } from '../csrf/synchronizer-token.js';
import type { Engine } from './engine.js';
import type { CookieSink, RequestContext } from './request.js';
import {
  InsecureTransportError,
  InvalidArgumentError,
  ReauthenticationRequiredError,
  SessionEndedError,
  SessionLimitError,
  StoreUnavailableError,
} from './errors.js';
import type { SessionPayload } from './payload.js';
import type { StoredSession } from './store.js';
import { clientMetadata, describeSessions, toDate, type SessionInfo } from './session-info.js';

export type { SessionInfo };
import { generateSessionId, generateToken, isWellFormedSessionId } from './token.js';

/**
 * The constraint on application data: an object type whose values are JSON-serialisable.
 * Declare it as an interface (`interface AppData { cart: string[] }`) and every key and value
 * is type-checked; without one, sessions hold {@link UntypedSessionData}.
 */
export type SessionData = object;
export type UntypedSessionData = Record<string, unknown>;

export interface LoginOptions<Data extends SessionData> {
  /**
   * Keys of the pre-login data to carry into the new session (a cart, a return URL). Nothing
   * else survives login: pre-login data never grants privileges (SM-18).
   * @default []
   */
  readonly keep?: readonly (keyof Data & string)[];
  /**
   * `persistent` sets Max-Age so the cookie survives a browser restart ("remember me"), never
   * past the absolute timeout (SM-10).
   * @default 'browser-session'
   */
  readonly cookie?: 'browser-session' | 'persistent';
  /** Data to store in the new session, in the same write as the login. */
  readonly data?: Partial<Data>;
  /**
   * The credential the login was checked against (the password hash just verified, or a
   * credential version), when the manager has `currentCredential`: a keyed fingerprint of it
   * is sealed into the session and compared on every request (SM-28). Pass exactly what
   * `currentCredential` returns for the user, read in the same step as the password check.
   */
  readonly credential?: string;
}

export interface RegenerateOptions {
  /** The user's new credential, after a password change (see {@link LoginOptions.credential}). */
  readonly credential?: string;
}

/** What {@link Session} needs to write a brand-new record. */
interface NewSession {
  readonly userId: string | null;
  readonly createdAt: number;
  readonly authenticatedAt: number | null;
  readonly absoluteExpiresAt: number;
  readonly data: Readonly<Record<string, unknown>>;
  readonly persistent: boolean;
  /** The sealed credential fingerprint. */
  readonly credential: string | null;
  /** Null: a new one. */
  readonly csrfSecret: string | null;
  readonly replaces: StoredSession | null;
}

/** The state a replacement (login, regenerate) starts from. */
interface Current {
  readonly record: StoredSession;
  readonly payload: SessionPayload;
}

/** A write retried this often against concurrent writers before giving up loudly. */
const MAX_WRITE_ATTEMPTS = 32;
const MAX_USER_ID_LENGTH = 255;

/**
 * The session of one request. Reads are synchronous; every mutation is awaited and written
 * through to the store at once, so a store failure surfaces at that `await` (or as a 503 from
 * the adapter), never after the response has gone.
 *
 * Concurrency rule: writes are compare-and-set on the record version and merge at key level.
 * Two requests that change different keys both land; when they change the same key, the
 * later write wins. A write to a session that was logged out or revoked meanwhile throws
 * {@link SessionEndedError} and never recreates it (SM-31).
 */
export class Session<Data extends SessionData = UntypedSessionData> {
  readonly #engine: Engine;
  readonly #request: RequestContext;
  readonly #sink: CookieSink;
  #record: StoredSession | null;
  #payload: SessionPayload | null;
  #preSessionSecret: string | null;

  /** @internal Sessions come from `SessionManager.load`. */
  constructor(
    engine: Engine,
    request: RequestContext,
    sink: CookieSink,
    state: {
      record: StoredSession | null;
      payload: SessionPayload | null;
      preSessionSecret: string | null;
    },
  ) {
    this.#engine = engine;
    this.#request = request;
    this.#sink = sink;
    this.#record = state.record;
    this.#payload = state.payload;
    this.#preSessionSecret = state.preSessionSecret;
  }

  /** The public session id, or null while nothing is stored for this visitor. */
  get id(): string | null {
    return this.#record?.id ?? null;
  }

  get userId(): string | null {
    return this.#record?.userId ?? null;
  }

  get isAuthenticated(): boolean {
    return this.userId !== null;
  }

  get createdAt(): Date | null {
    return toDate(this.#record?.createdAt);
  }

  get authenticatedAt(): Date | null {
    return toDate(this.#record?.authenticatedAt);
  }

  get lastSeenAt(): Date | null {
    return toDate(this.#record?.lastSeenAt);
  }

  get idleExpiresAt(): Date | null {
    return toDate(this.#record?.idleExpiresAt);
  }

  get absoluteExpiresAt(): Date | null {
    return toDate(this.#record?.absoluteExpiresAt);
  }

  /** All application data (read-only; change it with `set`, `update`, `unset`). */
  get data(): Readonly<Partial<Data>> {
    return (this.#payload?.data ?? {}) as Partial<Data>;
  }

  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    return this.data[key];
  }

  /** Stores one key. For a visitor without a session this creates it and issues the cookie. */
  async set<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void> {
    await this.#write((data) => ({ ...data, [key]: value }));
  }

  /** Stores several keys in one write. */
  async update(patch: Partial<Data>): Promise<void> {
    await this.#write((data) => ({ ...data, ...patch }));
  }

  async unset<K extends keyof Data & string>(key: K): Promise<void> {
    if (this.#record === null) return;
    await this.#write((data) => {
      const next = { ...data };
      delete next[key];
      return next;
    });
  }

  /**
   * Signs `userId` in: a new token AND a new session id, the old session deleted in the same
   * store step, a new CSRF secret, `authenticatedAt` now (SM-16, SM-17, SM-19). Also use it
   * for re-authentication (step-up) and when another user signs in over this session.
   * Throws {@link SessionEndedError} when the signed-in session it replaces was ended meanwhile
   * (SM-31); an anonymous pre-login session that is gone is simply not replaced.
   */
  async login(userId: string, options: LoginOptions<Data> = {}): Promise<void> {
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
      throw new InvalidArgumentError(
        `userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters`,
      );
    }
    const credential = this.#fingerprint(userId, options.credential);
    await this.#replace('session.authenticated', (current) => {
      const now = this.#engine.now();
      const kept: Record<string, unknown> = {};
      for (const key of options.keep ?? []) {
        if (current !== null && Object.hasOwn(current.payload.data, key))
          kept[key] = current.payload.data[key];
      }
      return {
        userId,
        createdAt: now,
        authenticatedAt: now,
        absoluteExpiresAt: now + this.#engine.config.absoluteTimeoutMs,
        data: { ...kept, ...options.data },
        persistent: options.cookie === 'persistent',
        credential,
      };
    });
  }

  /**
   * New token and session id for the same user and data, keeping the deadlines: for privilege
   * changes without a new login (role change, impersonation, password change; SM-17). Throws
   * {@link SessionEndedError} when the session was ended meanwhile: it never comes back (SM-31).
   */
  async regenerate(options: RegenerateOptions = {}): Promise<void> {
    const { userId } = this.#requireRecord();
    const credential =
      options.credential === undefined || userId === null
        ? undefined
        : this.#fingerprint(userId, options.credential);
    await this.#replace('session.regenerated', (current) => {
      // #replace starts from the live record: a regeneration never runs on nothing.
      const { record, payload } = current as Current;
      return {
        userId: record.userId,
        createdAt: record.createdAt,
        authenticatedAt: record.authenticatedAt,
        absoluteExpiresAt: record.absoluteExpiresAt,
        data: payload.data,
        persistent: payload.persistent,
        credential: credential ?? payload.credential,
      };
    });
  }

  /** Deletes the session on the server and expires the cookie (SM-25). Idempotent. */
  async logout(): Promise<void> {
    const record = this.#record;
    if (record !== null) {
      await this.#engine.call('logout', (store) => store.delete(record.id));
      this.#engine.emit('session.logged_out', this.#request, {
        sessionId: record.id,
        userId: record.userId,
      });
    }
    this.#forget();
  }

  /** Whether the last login is more recent than the fresh age (SM-32). */
  isFresh(options: { readonly maxAgeSeconds?: number } = {}): boolean {
    const at = this.#record?.authenticatedAt ?? null;
    const maxAge =
      options.maxAgeSeconds === undefined
        ? this.#engine.config.freshAgeMs
        : options.maxAgeSeconds * 1000;
    return at !== null && this.#engine.now() - at < maxAge;
  }

  /** Throws {@link ReauthenticationRequiredError} (401) unless {@link isFresh}. */
  requireFresh(options: { readonly maxAgeSeconds?: number } = {}): void {
    if (!this.isFresh(options)) throw new ReauthenticationRequiredError();
  }

  /** The signed-in user's sessions, most recently used first (SM-33). */
  async listSessions(): Promise<SessionInfo[]> {
    const userId = this.userId;
    if (userId === null) return [];
    const now = this.#engine.now();
    const sessions = await this.#engine.call('list', (store) => store.listByUser(userId, now));
    return describeSessions(this.#engine, sessions, now, this.id);
  }

  /** Revokes one of the signed-in user's sessions. False for an unknown id or another user's. */
  async revokeSession(sessionId: string): Promise<boolean> {
    const userId = this.userId;
    if (userId === null || typeof sessionId !== 'string' || !isWellFormedSessionId(sessionId))
      return false;
    const target = await this.#engine.call('revoke', (store) => store.findById(sessionId));
    if (target === null || target.userId !== userId) return false;
    const deleted = await this.#engine.call('revoke', (store) => store.delete(sessionId));
    if (deleted)
      this.#engine.emit('session.revoked', this.#request, { sessionId, userId, reason: 'user' });
    if (sessionId === this.id) this.#forget();
    return deleted;
  }

  /** Ends every other session of this user, e.g. after a password change (SM-28). */
  async revokeOtherSessions(): Promise<number> {
    const record = this.#requireRecord();
    if (record.userId === null) return 0;
    return this.#engine.revokeUser(record.userId, record.id, 'revoke-others', this.#request);
  }

  /** Logout everywhere: ends every session of this user, this one included (SM-27). */
  async revokeAllSessions(): Promise<number> {
    const record = this.#record;
    if (record?.userId == null) {
      await this.logout();
      return 0;
    }
    const count = await this.#engine.revokeUser(
      record.userId,
      null,
      'logout-everywhere',
      this.#request,
    );
    this.#forget();
    return count;
  }

  /**
   * A CSRF token for a form field `_csrf` or the `X-CSRF-Token` header, masked afresh on each
   * call (SM-38). Visitors without a session get a pre-session secret in a separate HttpOnly
   * cookie so that login and signup forms are protected too (SM-45).
   */
  csrfToken(): string {
    const secret =
      this.#payload?.csrfSecret ?? this.#preSessionSecret ?? this.#issuePreSessionSecret();
    return maskCSRFToken(secret, this.#engine.config.runtime.randomBytes);
  }

  /**
   * Whether `token` is a valid CSRF token for this session (or pre-session); a failure emits
   * `csrf.rejected`. Only needed with `csrf.protection: 'off'`: otherwise the manager has
   * already checked every unsafe request.
   */
  verifyCSRFToken(token: unknown): boolean {
    const secret = this.#payload?.csrfSecret ?? this.#preSessionSecret;
    const valid = secret !== null && verifyCSRFToken(token, secret);
    if (!valid) {
      this.#engine.emit('csrf.rejected', this.#request, {
        sessionId: this.id,
        userId: this.userId,
        reason: 'token-invalid',
      });
    }
    return valid;
  }

  #issuePreSessionSecret(): string {
    this.#assertCanIssueCookie();
    const secret = generateCSRFSecret(this.#engine.config.runtime.randomBytes);
    const name = this.#engine.csrfCookieName(this.#request.secure);
    this.#sink.setCookie(name, this.#engine.browserSessionCookie(this.#request, name, secret));
    this.#preSessionSecret = secret;
    return secret;
  }

  async #write(
    change: (data: Readonly<Record<string, unknown>>) => Record<string, unknown>,
  ): Promise<void> {
    if (this.#record === null) {
      await this.#create(change({}));
      return;
    }
    const engine = this.#engine;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const record: StoredSession = this.#record;
      const payload = this.#payload as SessionPayload;
      const now = engine.now();
      if (engine.expiryReason(record, now) !== null) throw this.#ended();
      const nextPayload: SessionPayload = { ...payload, data: change(payload.data) };
      const fields = {
        ...record,
        lastSeenAt: now,
        idleExpiresAt: engine.idleDeadline(record, now),
      };
      const next: StoredSession = {
        ...fields,
        version: record.version + 1,
        sealed: engine.seal(fields, nextPayload),
      };
      if (await engine.call('update', (store) => store.update(next, { retire: null }))) {
        this.#record = next;
        this.#payload = nextPayload;
        return;
      }
      // Another request wrote first: merge our change into its version and try again.
      const fresh: StoredSession | null = await engine.call('update', (store) =>
        store.findById(record.id),
      );
      const opened = fresh === null ? null : engine.open(fresh);
      if (fresh === null || opened === null) throw this.#ended();
      this.#record = fresh;
      this.#payload = opened.payload;
      // Jitter breaks the lockstep of many writers retrying against each other.
      if (attempt > 0) await sleep(Math.random() * 2 * attempt);
    }
    throw new StoreUnavailableError('update (too many concurrent writers)');
  }

  async #create(data: Record<string, unknown>): Promise<void> {
    const now = this.#engine.now();
    await this.#issue({
      userId: null,
      createdAt: now,
      authenticatedAt: null,
      absoluteExpiresAt: now + this.#engine.config.absoluteTimeoutMs,
      data,
      persistent: false,
      credential: null,
      // Adopting the pre-session CSRF secret keeps forms rendered before the first write valid.
      csrfSecret: this.#preSessionSecret,
      replaces: null,
    });
    this.#engine.emit('session.created', this.#request, { sessionId: this.id });
  }

  /**
   * Issues a new session in place of the current one (or of none). The store deletes the
   * current record only if it is still there at the version this request read: when a
   * concurrent write moved it on, the replacement starts again from that version; when it was
   * ended (logout, revocation, expiry), the replacement throws and nothing is created (SM-31).
   */
  async #replace(
    event: 'session.authenticated' | 'session.regenerated',
    build: (current: Current | null) => Omit<NewSession, 'csrfSecret' | 'replaces'>,
  ): Promise<void> {
    const engine = this.#engine;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const previous = this.#record;
      const payload = this.#payload;
      const current = previous === null || payload === null ? null : { record: previous, payload };
      // A fresh CSRF secret: tokens rendered before a privilege change stop working (SM-19).
      const next = { ...build(current), csrfSecret: null, replaces: previous };
      if (await this.#issue(next)) {
        engine.emit(event, this.#request, {
          sessionId: this.id,
          userId: next.userId,
          previousSessionId: previous?.id ?? null,
        });
        return;
      }
      const replaced = previous as StoredSession;
      const fresh = await engine.call('insert', (store) => store.findById(replaced.id));
      const opened = fresh === null ? null : engine.open(fresh);
      if (fresh === null || opened === null || engine.expiryReason(fresh, engine.now()) !== null) {
        // A login whose anonymous pre-login session is gone (a parallel login consumed it, a
        // double-submitted form) proves who the user is by itself: it signs in afresh, taking
        // nothing from the lost session. A signed-in session that ended stays ended.
        if (event !== 'session.authenticated' || replaced.userId !== null) throw this.#ended();
        this.#record = null;
        this.#payload = null;
        continue;
      }
      this.#record = fresh;
      this.#payload = opened.payload;
    }
    throw new StoreUnavailableError('insert (too many concurrent writers)');
  }

  /**
   * Writes a brand-new record (new id, new token) and issues its cookie. False when the
   * session it replaces is no longer at the version this request read.
   */
  async #issue(next: NewSession): Promise<boolean> {
    this.#assertCanIssueCookie();
    const engine = this.#engine;
    const { runtime, sessionLimit } = engine.config;
    const now = engine.now();
    const id = generateSessionId(runtime);
    const token = generateToken(runtime);
    const payload: SessionPayload = {
      data: next.data,
      ...clientMetadata(this.#request),
      csrfSecret: next.csrfSecret ?? generateCSRFSecret(runtime.randomBytes),
      persistent: next.persistent,
      // A brand-new token has no predecessor for theft detection to watch.
      previousTokenHash: null,
      successorSeen: true,
      credential: next.credential,
    };
    const fields = {
      id,
      tokenHash: engine.tokenHash(token),
      userId: next.userId,
      createdAt: next.createdAt,
      authenticatedAt: next.authenticatedAt,
      lastSeenAt: now,
      idleExpiresAt: engine.idleDeadline(next, now),
      absoluteExpiresAt: next.absoluteExpiresAt,
      rotatedAt: now,
    };
    const record: StoredSession = { ...fields, version: 1, sealed: engine.seal(fields, payload) };
    const replaces =
      next.replaces === null ? null : { id: next.replaces.id, version: next.replaces.version };
    const limit = sessionLimit === null || next.userId === null ? null : { ...sessionLimit, now };
    const result = await engine.call('insert', (store) =>
      store.insert(record, { replaces, limit }),
    );
    if (result.status === 'conflict') return false;
    if (result.status === 'limit-reached') {
      engine.emit('session.limit_reached', this.#request, {
        userId: next.userId,
        reason: 'refuse',
      });
      throw new SessionLimitError();
    }
    for (const sessionId of result.evicted) {
      engine.emit('session.revoked', this.#request, {
        sessionId,
        userId: next.userId,
        reason: 'session-limit',
      });
    }
    this.#record = record;
    this.#payload = payload;
    this.#sink.setCookie(
      engine.cookieName(this.#request.secure),
      engine.sessionCookie(this.#request, token, record, payload.persistent),
    );
    if (this.#preSessionSecret !== null) {
      // The session now holds its own CSRF secret; the pre-session cookie has served its purpose.
      const name = engine.csrfCookieName(this.#request.secure);
      this.#sink.setCookie(name, engine.expiredCookie(this.#request, name));
      this.#preSessionSecret = null;
    }
    return true;
  }

  /** The sealed fingerprint of a login's credential; required when the manager checks one. */
  #fingerprint(userId: string, credential: string | undefined): string | null {
    if (credential === undefined) {
      if (this.#engine.config.currentCredential === null) return null;
      throw new InvalidArgumentError(
        'login() needs the credential it was checked against ({ credential }), because the manager has currentCredential',
      );
    }
    if (typeof credential !== 'string' || credential.length === 0) {
      throw new InvalidArgumentError('credential must be a non-empty string');
    }
    return this.#engine.config.keyRing.credentialFingerprint(userId, credential);
  }

  #requireRecord(): StoredSession {
    if (this.#record === null) throw new SessionEndedError();
    return this.#record;
  }

  #ended(): SessionEndedError {
    this.#forget();
    return new SessionEndedError();
  }

  /** Drops local state and expires the cookie. */
  #forget(): void {
    this.#record = null;
    this.#payload = null;
    if (!this.#canIssueCookie()) return;
    const name = this.#engine.cookieName(this.#request.secure);
    this.#sink.setCookie(name, this.#engine.expiredCookie(this.#request, name));
  }

  #canIssueCookie(): boolean {
    return this.#request.secure || this.#engine.config.allowInsecureHttp;
  }

  #assertCanIssueCookie(): void {
    if (!this.#canIssueCookie()) throw new InsecureTransportError();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
