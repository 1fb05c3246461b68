import {
  listUserSessions,
  purgeExpiredSessions,
  revokeAllSessions,
  revokeSessionById,
  revokeUserSessions,
} from './admin.js';
import { resolveConfig, type SessionManagerOptions } from './config.js';
import { createCoreContext, type CoreContext } from './context.js';
import type { SessionEventListener, SessionEventType } from './events.js';
import { loadSession } from './load-session.js';
import type { CookieSink, RequestContext } from './request.js';
import { Session, type SessionData, type SessionInfo, type UntypedSessionData } from './session.js';

/**
 * Loads and manages sessions. Framework-free: it takes header strings in and hands Set-Cookie
 * strings to a sink; the adapters (`strongroom/express`, ...) translate.
 */
export interface SessionManager<Data extends SessionData = UntypedSessionData> {
  /**
   * Resolves the request's session: checks CSRF on unsafe requests, validates the cookie,
   * enforces the timeouts, rotates the token when due and extends the idle deadline (at most
   * once per touch interval). Never throws for a bad cookie (the visitor is simply anonymous).
   * Adapters call it; apps rarely do.
   *
   * @throws {CSRFError} an unsafe request failed either CSRF layer (403; nothing was changed).
   * @throws {TooManyRequestsError} the client presented too many unknown tokens (429, SM-55).
   * @throws {StoreUnavailableError} the store failed (503: fail closed, SM-57).
   * @example
   * ```ts
   * const cookies = new Map<string, string>();
   * const session = await sessions.load(
   *   { method: 'GET', cookieHeader: req.headers.cookie, secure: true, ip, userAgent },
   *   { setCookie: (name, header) => cookies.set(name, header) },
   * );
   * ```
   */
  load(request: RequestContext, sink: CookieSink): Promise<Session<Data>>;
  /**
   * Subscribes to lifecycle events of one type (the listener's event is narrowed to it) or
   * `'*'`; returns the unsubscribe function.
   *
   * @example
   * ```ts
   * sessions.on('session.expired', (event) => metrics.increment(`expired.${event.reason}`));
   * ```
   */
  on<T extends SessionEventType>(type: T | '*', listener: SessionEventListener<T>): () => void;
  /**
   * Administrative: ends every session of a user (account disabled, SM-29/SM-30). Returns how
   * many were ended.
   *
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * await users.disable(userId);
   * await sessions.revokeUserSessions(userId);
   * ```
   */
  revokeUserSessions(userId: string): Promise<number>;
  /**
   * Incident response (SM-30): ends every session that exists when it is called, of every user
   * and anonymous ones, in bounded batches, one `session.revoked` event each (reason
   * `revoke-all`). Sessions created by logins after the call started are kept. Returns how many
   * were ended.
   *
   * @throws {StoreUnavailableError} the store failed; sessions of earlier batches stay ended.
   * @example
   * ```ts
   * const ended = await sessions.revokeAllSessions({ batchSize: 1000 });
   * ```
   */
  revokeAllSessions(options?: { readonly batchSize?: number }): Promise<number>;
  /**
   * Administrative: ends one session by its public id. False for a malformed or unknown id.
   *
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * await sessions.revokeSession(sessionIdFromAuditLog);
   * ```
   */
  revokeSession(sessionId: string): Promise<boolean>;
  /**
   * Administrative: a user's live sessions, most recently used first.
   *
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * const devices = await sessions.listUserSessions(userId);
   * ```
   */
  listUserSessions(userId: string): Promise<SessionInfo[]>;
  /**
   * Deletes expired sessions in bounded batches; returns how many went. The stores also purge
   * on their own schedule (`purgeIntervalSeconds`); this is for a cron job.
   *
   * @throws {StoreUnavailableError} the store failed.
   * @example
   * ```ts
   * const purged = await sessions.purgeExpired({ batchSize: 1000 });
   * ```
   */
  purgeExpired(options?: { readonly batchSize?: number }): Promise<number>;
}

/**
 * Creates a session manager. Throws a `ConfigError` listing every configuration problem.
 *
 * @example
 * ```ts
 * import { createSessionManager, parseKeyList } from 'strongroom';
 * import { createSQLiteStore } from 'strongroom/stores/sqlite';
 *
 * interface AppData { cart: string[] }
 * const sessions = createSessionManager<AppData>({
 *   store: createSQLiteStore({ path: '.data/sessions.db' }),
 *   keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''),
 * });
 * sessions.on('session.theft_detected', (event) => logger.warn(event));
 * ```
 */
export function createSessionManager<Data extends SessionData = UntypedSessionData>(
  options: SessionManagerOptions,
): SessionManager<Data> {
  const core = createCoreContext(resolveConfig(options));
  if (core.config.allowInsecureHttp) {
    process.emitWarning(
      'Strongroom: cookie.secure is "allow-http-development": session cookies may travel over plain HTTP. Never use this in production.',
    );
  }
  return {
    load: (request, sink) => load<Data>(core, request, sink),
    on: (type, listener) => core.events.on(type, listener),
    revokeUserSessions: (userId) =>
      revokeUserSessions(core, userId, { except: null, reason: 'admin', request: null }),
    revokeAllSessions: (options) => revokeAllSessions(core, options),
    revokeSession: (sessionId) => revokeSessionById(core, sessionId),
    listUserSessions: (userId) => listUserSessions(core, userId, null),
    purgeExpired: ({ batchSize = 500 } = {}) => purgeExpiredSessions(core, batchSize),
  };
}

/** Runs the request pipeline (load-session.ts) and hands its outcome to a `Session`. */
async function load<Data extends SessionData>(
  core: CoreContext,
  request: RequestContext,
  sink: CookieSink,
): Promise<Session<Data>> {
  const outcome = await loadSession(core, request, sink);
  const state =
    outcome.kind === 'session'
      ? { ...outcome.loaded, preSessionSecret: null }
      : { record: null, payload: null, preSessionSecret: outcome.preSessionSecret };
  return new Session<Data>(core, request, sink, state);
}
