import { generateCSRFSecret, maskCSRFToken, verifyCSRFToken } from '../csrf/synchronizer-token.js';
import type { CookieSink, Engine, RequestContext } from './engine.js';
import {
  InsecureTransportError,
  InvalidArgumentError,
  ReauthenticationRequiredError,
  SessionEndedError,
  StoreUnavailableError,
} from './errors.js';
import type { SessionPayload } from './payload.js';
import type { StoredSession } from './store.js';
import { generateSessionId, generateToken, hashToken, isWellFormedSessionId } from './token.js';

/**
 * The constraint on application data: an object type whose values are JSON-serialisable.
 * Declare it as an interface (`interface AppData { cart: string[] }`) and every key and value
 * is type-checked; without one, sessions hold {@link UntypedSessionData}.
 */
export type SessionData = object;
export type UntypedSessionData = Record<string, unknown>;

/** One entry of a user's session list (SM-33). Public ids only, never tokens. */
export interface SessionInfo {
  readonly id: string;
  /** Whether this is the session of the request that asked. */
  readonly current: boolean;
  readonly createdAt: Date;
  readonly authenticatedAt: Date | null;
  readonly lastSeenAt: Date;
  readonly idleExpiresAt: Date;
  readonly absoluteExpiresAt: Date;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

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
}

/** What {@link Session} needs to write a brand-new record. */
interface NewSession {
  readonly userId: string | null;
  readonly createdAt: number;
  readonly authenticatedAt: number | null;
  readonly absoluteExpiresAt: number;
  readonly data: Readonly<Record<string, unknown>>;
  readonly persistent: boolean;
  /** Null: a new one. */
  readonly csrfSecret: string | null;
  readonly replaces: string | null;
}

/** A write retried this often against concurrent writers before giving up loudly. */
const MAX_WRITE_ATTEMPTS = 32;
const MAX_USER_ID_LENGTH = 255;
const MAX_USER_AGENT_LENGTH = 512;
const MAX_IP_LENGTH = 64;

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
   */
  async login(userId: string, options: LoginOptions<Data> = {}): Promise<void> {
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
      throw new InvalidArgumentError(
        `userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters`,
      );
    }
    const now = this.#engine.now();
    const kept: Record<string, unknown> = {};
    for (const key of options.keep ?? []) {
      if (this.#payload !== null && Object.hasOwn(this.#payload.data, key))
        kept[key] = this.#payload.data[key];
    }
    await this.#replace({
      userId,
      createdAt: now,
      authenticatedAt: now,
      absoluteExpiresAt: now + this.#engine.config.absoluteTimeoutMs,
      data: { ...kept, ...options.data },
      persistent: options.cookie === 'persistent',
      event: 'session.authenticated',
    });
  }

  /**
   * New token and session id for the same user and data, keeping the deadlines: for privilege
   * changes without a new login (role change, impersonation, password change; SM-17).
   */
  async regenerate(): Promise<void> {
    const record = this.#requireRecord();
    const payload = this.#payload as SessionPayload;
    await this.#replace({
      userId: record.userId,
      createdAt: record.createdAt,
      authenticatedAt: record.authenticatedAt,
      absoluteExpiresAt: record.absoluteExpiresAt,
      data: payload.data,
      persistent: payload.persistent,
      event: 'session.regenerated',
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
    return maskCSRFToken(secret, this.#engine.config.runtime);
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
    const secret = generateCSRFSecret(this.#engine.config.runtime);
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
      const next: StoredSession = {
        ...record,
        lastSeenAt: now,
        idleExpiresAt: engine.idleDeadline(record, now),
        version: record.version + 1,
        sealed: engine.seal(record.id, nextPayload),
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
      // Adopting the pre-session CSRF secret keeps forms rendered before the first write valid.
      csrfSecret: this.#preSessionSecret,
      replaces: null,
    });
    this.#engine.emit('session.created', this.#request, { sessionId: this.id });
  }

  async #replace(
    next: Omit<NewSession, 'csrfSecret' | 'replaces'> & {
      event: 'session.authenticated' | 'session.regenerated';
    },
  ): Promise<void> {
    const previous = this.#record;
    // A fresh CSRF secret: tokens rendered before a privilege change stop working (SM-19).
    await this.#issue({ ...next, csrfSecret: null, replaces: previous?.id ?? null });
    this.#engine.emit(next.event, this.#request, {
      sessionId: this.id,
      userId: next.userId,
      previousSessionId: previous?.id ?? null,
    });
  }

  /** Writes a brand-new record (new id, new token) and issues its cookie. */
  async #issue(next: NewSession): Promise<void> {
    this.#assertCanIssueCookie();
    const engine = this.#engine;
    const runtime = engine.config.runtime;
    const now = engine.now();
    const id = generateSessionId(runtime);
    const token = generateToken(runtime);
    const payload: SessionPayload = {
      data: next.data,
      ...clientMetadata(this.#request),
      csrfSecret: next.csrfSecret ?? generateCSRFSecret(runtime),
      persistent: next.persistent,
    };
    const record: StoredSession = {
      id,
      tokenHash: hashToken(token),
      userId: next.userId,
      createdAt: next.createdAt,
      authenticatedAt: next.authenticatedAt,
      lastSeenAt: now,
      idleExpiresAt: engine.idleDeadline(next, now),
      absoluteExpiresAt: next.absoluteExpiresAt,
      rotatedAt: now,
      version: 1,
      sealed: engine.seal(id, payload),
    };
    await engine.call('insert', (store) => store.insert(record, { replaces: next.replaces }));
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

/** @internal Shared by `Session.listSessions` and `SessionManager.listUserSessions`. */
export function describeSessions(
  engine: Engine,
  sessions: readonly StoredSession[],
  now: number,
  currentId: string | null,
): SessionInfo[] {
  const infos: SessionInfo[] = [];
  for (const session of sessions) {
    const opened = engine.open(session);
    if (opened === null || engine.expiryReason(session, now) !== null) continue;
    infos.push({
      id: session.id,
      current: session.id === currentId,
      createdAt: new Date(session.createdAt),
      authenticatedAt: toDate(session.authenticatedAt),
      lastSeenAt: new Date(session.lastSeenAt),
      idleExpiresAt: new Date(session.idleExpiresAt),
      absoluteExpiresAt: new Date(session.absoluteExpiresAt),
      userAgent: opened.payload.userAgent,
      ip: opened.payload.ip,
    });
  }
  return infos.sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
}

/**
 * What the session list shows about a device. Bounded, because every record carries it and the
 * User-Agent header may be kilobytes long.
 */
function clientMetadata(request: RequestContext): { ip: string | null; userAgent: string | null } {
  return {
    ip: request.ip?.slice(0, MAX_IP_LENGTH) ?? null,
    userAgent: request.userAgent?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toDate(value: number | null | undefined): Date | null {
  return value == null ? null : new Date(value);
}
