import { maskCSRFToken } from '../csrf/synchronizer-token.js';
import type { CoreContext } from './context.js';
import { ReauthenticationRequiredError, SessionEndedError } from './errors.js';
import type { CookieSink, RequestContext } from './request.js';
import { toDate, type SessionInfo } from './session-info.js';
import { listUserSessions, revokeUserSessions } from './admin.js';
import {
  forgetSession,
  loginFingerprint,
  regenerated,
  reloadSession,
  signedIn,
  issuePreSessionSecret,
  replaceSession,
  writeData,
  type Current,
  type SessionScope,
  type SessionState,
} from './session-writes.js';
import type { StoredSession } from './store.js';
import { isWellFormedSessionId } from './token.js';
import type {
  LoginOptions,
  RegenerateOptions,
  SessionData,
  UntypedSessionData,
} from './session-options.js';

export type { SessionInfo };
export type { LoginOptions, RegenerateOptions, SessionData, UntypedSessionData };

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
  readonly #scope: SessionScope;
  readonly #state: SessionState;

  /** @internal Sessions come from `SessionManager.load`. */
  constructor(core: CoreContext, request: RequestContext, sink: CookieSink, state: SessionState) {
    this.#state = state;
    this.#scope = { core, request, sink, state };
  }

  /** The public session id, or null while nothing is stored for this visitor. */
  get id(): string | null {
    return this.#state.record?.id ?? null;
  }

  get userId(): string | null {
    return this.#state.record?.userId ?? null;
  }

  get isAuthenticated(): boolean {
    return this.userId !== null;
  }

  get createdAt(): Date | null {
    return toDate(this.#state.record?.createdAt);
  }

  get authenticatedAt(): Date | null {
    return toDate(this.#state.record?.authenticatedAt);
  }

  get lastSeenAt(): Date | null {
    return toDate(this.#state.record?.lastSeenAt);
  }

  get idleExpiresAt(): Date | null {
    return toDate(this.#state.record?.idleExpiresAt);
  }

  get absoluteExpiresAt(): Date | null {
    return toDate(this.#state.record?.absoluteExpiresAt);
  }

  /** Whether the cookie outlives the browser session ("remember me"; see `login` options). */
  get isPersistent(): boolean {
    return this.#state.payload?.persistent ?? false;
  }

  /** All application data (read-only; change it with `set`, `update`, `unset`). */
  get data(): Readonly<Partial<Data>> {
    return (this.#state.payload?.data ?? {}) as Partial<Data>;
  }

  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    return this.data[key];
  }

  /**
   * Stores one key. For a visitor without a session this creates it and issues the cookie.
   *
   * @throws {SessionEndedError} the session was logged out, revoked or expired meanwhile (SM-31).
   * @throws {StoreUnavailableError} the store failed (the adapters answer 503).
   * @throws {InsecureTransportError} creating a session over plain HTTP (SM-06).
   * @example
   * ```ts
   * await req.session.set('cart', [...cart, itemId]);
   * ```
   */
  async set<K extends keyof Data & string>(key: K, value: Data[K]): Promise<void> {
    await writeData(this.#scope, (data) => ({ ...data, [key]: value }));
  }

  /**
   * Stores several keys in one write (merged at key level with concurrent writes).
   *
   * @throws {SessionEndedError} the session ended meanwhile; {@link StoreUnavailableError}.
   * @example
   * ```ts
   * await req.session.update({ theme: 'dark', locale: 'de' });
   * ```
   */
  async update(patch: Partial<Data>): Promise<void> {
    await writeData(this.#scope, (data) => ({ ...data, ...patch }));
  }

  /**
   * Removes one key; nothing is created for a visitor without a session.
   *
   * @throws {SessionEndedError} the session ended meanwhile; {@link StoreUnavailableError}.
   * @example
   * ```ts
   * await req.session.unset('cart');
   * ```
   */
  async unset<K extends keyof Data & string>(key: K): Promise<void> {
    if (this.#state.record === null) return;
    await writeData(this.#scope, (data) => {
      const next = { ...data };
      delete next[key];
      return next;
    });
  }

  /**
   * Signs `userId` in: a new token AND a new session id, the old session deleted in the same
   * store step, a new CSRF secret, `authenticatedAt` now (SM-16, SM-17, SM-19). Also use it
   * for re-authentication (step-up) and when another user signs in over this session.
   *
   * @throws {SessionEndedError} the signed-in session it replaces was ended meanwhile (SM-31);
   *   an anonymous pre-login session that is gone is simply not replaced.
   * @throws {SessionLimitError} `maxSessionsPerUser` is reached under `sessionLimitPolicy: 'refuse'`.
   * @throws {InvalidArgumentError} a bad `userId`, or a missing `credential` when the manager has
   *   `currentCredential`.
   * @throws {StoreUnavailableError} the store failed; {@link InsecureTransportError} over plain HTTP.
   * @example
   * ```ts
   * if (await users.verify(email, password)) {
   *   await req.session.login(user.id, { keep: ['cart'], cookie: 'persistent' });
   * }
   * ```
   */
  async login(userId: string, options: LoginOptions<Data> = {}): Promise<void> {
    const core = this.#scope.core;
    const credential = loginFingerprint(core.config, userId, options.credential);
    await replaceSession(this.#scope, 'session.authenticated', (current) =>
      signedIn(core, current, userId, { ...options, credential }),
    );
  }

  /**
   * New token and session id for the same user and data, keeping the deadlines: for privilege
   * changes without a new login (role change, impersonation, password change; SM-17).
   *
   * @throws {SessionEndedError} there is no session, or it was ended meanwhile: it never comes
   *   back (SM-31).
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * await users.setPassword(userId, newHash);
   * await req.session.regenerate({ credential: newHash });
   * await req.session.revokeOtherSessions();
   * ```
   */
  async regenerate(options: RegenerateOptions = {}): Promise<void> {
    const { userId } = this.#requireRecord();
    const credential =
      options.credential === undefined || userId === null
        ? undefined
        : loginFingerprint(this.#scope.core.config, userId, options.credential);
    // replaceSession starts from the live record: a regeneration never runs on nothing.
    await replaceSession(this.#scope, 'session.regenerated', (current) =>
      regenerated(current as Current, credential, options.cookie),
    );
  }

  /**
   * Reads the session again from the store, so that what concurrent requests wrote since this
   * one loaded it shows in {@link data}. Nothing happens for a visitor without a session.
   *
   * @throws {SessionEndedError} it was logged out, revoked or expired meanwhile (SM-31).
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * await session.reload();
   * const cart = session.get('cart');
   * ```
   */
  async reload(): Promise<void> {
    await reloadSession(this.#scope);
  }

  /**
   * Deletes the session on the server and expires the cookie (SM-25). Idempotent.
   *
   * @throws {StoreUnavailableError} the store failed: the session may still exist, so the
   *   adapters answer 503 rather than pretend the user is signed out.
   * @example
   * ```ts
   * app.post('/logout', async (req, res) => {
   *   await req.session.logout();
   *   res.redirect(303, '/');
   * });
   * ```
   */
  async logout(): Promise<void> {
    const record = this.#state.record;
    const { core, request } = this.#scope;
    if (record !== null) {
      await core.store.call('logout', (store) => store.delete(record.id));
      core.events.emit('session.logged_out', request, {
        sessionId: record.id,
        userId: record.userId,
      });
    }
    forgetSession(this.#scope);
  }

  /**
   * Whether the last login is more recent than the fresh age (SM-32).
   *
   * @example
   * ```ts
   * if (!req.session.isFresh({ maxAgeSeconds: 300 })) return res.redirect('/reauth');
   * ```
   */
  isFresh(options: { readonly maxAgeSeconds?: number } = {}): boolean {
    const { core } = this.#scope;
    const at = this.#state.record?.authenticatedAt ?? null;
    const maxAge =
      options.maxAgeSeconds === undefined ? core.config.freshAgeMs : options.maxAgeSeconds * 1000;
    return at !== null && core.now() - at < maxAge;
  }

  /**
   * Requires a recent login before a sensitive action (SM-32).
   *
   * @throws {ReauthenticationRequiredError} (401) unless {@link isFresh}.
   * @example
   * ```ts
   * req.session.requireFresh();
   * await users.changeEmail(req.session.userId, email);
   * ```
   */
  requireFresh(options: { readonly maxAgeSeconds?: number } = {}): void {
    if (!this.isFresh(options)) throw new ReauthenticationRequiredError();
  }

  /**
   * The signed-in user's sessions, most recently used first (SM-33); empty when anonymous.
   *
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * const devices = await req.session.listSessions();
   * ```
   */
  async listSessions(): Promise<SessionInfo[]> {
    const userId = this.userId;
    if (userId === null) return [];
    return listUserSessions(this.#scope.core, userId, this.id);
  }

  /**
   * Revokes one of the signed-in user's sessions. False for an unknown id or another user's.
   *
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * await req.session.revokeSession(req.body.sessionId);
   * ```
   */
  async revokeSession(sessionId: string): Promise<boolean> {
    const userId = this.userId;
    if (userId === null || typeof sessionId !== 'string' || !isWellFormedSessionId(sessionId))
      return false;
    const { core, request } = this.#scope;
    const target = await core.store.call('revoke', (store) => store.findById(sessionId));
    if (target === null || target.userId !== userId) return false;
    const deleted = await core.store.call('revoke', (store) => store.delete(sessionId));
    if (deleted)
      core.events.emit('session.revoked', request, { sessionId, userId, reason: 'user' });
    if (sessionId === this.id) forgetSession(this.#scope);
    return deleted;
  }

  /**
   * Ends every other session of this user, e.g. after a password change (SM-28).
   *
   * @throws {SessionEndedError} there is no session; {@link StoreUnavailableError}.
   * @example
   * ```ts
   * const ended = await req.session.revokeOtherSessions();
   * ```
   */
  async revokeOtherSessions(): Promise<number> {
    const record = this.#requireRecord();
    if (record.userId === null) return 0;
    const { core, request } = this.#scope;
    return revokeUserSessions(core, record.userId, {
      except: record.id,
      reason: 'revoke-others',
      request,
    });
  }

  /**
   * Logout everywhere: ends every session of this user, this one included (SM-27).
   *
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * await req.session.revokeAllSessions();
   * ```
   */
  async revokeAllSessions(): Promise<number> {
    const record = this.#state.record;
    if (record?.userId == null) {
      await this.logout();
      return 0;
    }
    const { core, request } = this.#scope;
    const count = await revokeUserSessions(core, record.userId, {
      except: null,
      reason: 'logout-everywhere',
      request,
    });
    forgetSession(this.#scope);
    return count;
  }

  /**
   * A CSRF token for a form field `_csrf` or the `X-CSRF-Token` header, masked afresh on each
   * call (SM-38). Visitors without a session get a pre-session secret in a separate HttpOnly
   * cookie so that login and signup forms are protected too (SM-45).
   *
   * @throws {InsecureTransportError} issuing the pre-session cookie over plain HTTP (SM-06).
   * @example
   * ```ts
   * res.send(`<input type="hidden" name="_csrf" value="${req.session.csrfToken()}">`);
   * ```
   */
  csrfToken(): string {
    const state = this.#state;
    const secret =
      state.payload?.csrfSecret ?? state.preSessionSecret ?? issuePreSessionSecret(this.#scope);
    return maskCSRFToken(secret, this.#scope.core.config.runtime.randomBytes);
  }

  /**
   * Whether `token` is a valid CSRF token for this session (or pre-session); a failure emits
   * `csrf.rejected`. Only needed with `csrf.protection: 'off'`: otherwise the manager has
   * already checked every unsafe request.
   *
   * @example
   * ```ts
   * if (!req.session.verifyCSRFToken(req.get('x-csrf-token'))) return res.sendStatus(403);
   * ```
   */
  verifyCSRFToken(token: unknown): boolean {
    const { core, request } = this.#scope;
    const secret = this.#state.payload?.csrfSecret ?? this.#state.preSessionSecret;
    return core.csrf.verifyManually(request, token, secret, this.#state.record);
  }

  #requireRecord(): StoredSession {
    if (this.#state.record === null) throw new SessionEndedError();
    return this.#state.record;
  }
}
