import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { ConfigError, isStrongroomError, type ConfigProblem } from '../core/errors.js';
import { createSessionManager, type SessionManager } from '../core/manager.js';
import type { Session } from '../core/session.js';
import { expressSessions, type RequireUserOptions } from './express.js';
import {
  resolveCompatOptions,
  type ExpressSessionCookieOptions,
  type ExpressSessionOptions,
} from './express-session/options.js';
import { RequestSession } from './express-session/request-session.js';
import type {
  ExpressSession,
  SessionCallback,
  SessionCookie,
} from './express-session/session-object.js';

export { safeReturnPath } from './express.js';
export {
  upgradeLegacySessions,
  type LegacySessionStore,
  type LegacyUpgradeOptions,
} from './express-session/legacy-upgrade.js';
export type {
  ExpressSession,
  ExpressSessionCookieOptions,
  ExpressSessionOptions,
  RequireUserOptions,
  SessionCallback,
  SessionCookie,
};

/**
 * Your session data, for type-checking `req.session.<key>`: augment it as you did
 * express-session's.
 *
 * @example
 * ```ts
 * declare module 'strongroom/express-session' {
 *   interface SessionData {
 *     views: number;
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the app
export interface SessionData {}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- how Express's Request is augmented
  namespace Express {
    interface Request {
      /** The session, express-session style; undefined after `destroy()`. */
      session: ExpressSession & Partial<SessionData>;
      /** The public session id (never the token), or null while nothing is stored. */
      sessionID: string | null;
      /** A CSRF token for a `_csrf` form field or an `X-CSRF-Token` header (as csurf's). */
      csrfToken(): string;
    }
  }
}

/** The middleware `expressSession()` returns, with what an app mounts or reaches for later. */
export interface ExpressSessionMiddleware extends RequestHandler {
  /**
   * Answers Strongroom errors with their status (503 store unavailable, 403 CSRF, …) and
   * `Retry-After` where it applies; mount it after your routes. Without it, Express's own
   * handler still answers with the error's `status`.
   */
  readonly errorHandler: ErrorRequestHandler;
  /** A guard for routes that need a signed-in user (see `strongroom/express`). */
  requireUser(options?: RequireUserOptions): RequestHandler;
  /** The Strongroom session of a request, for what express-session never had (device lists, …). */
  session(req: Request): Session;
  /** The session manager, for the operator side (`revokeUserSessions`, …). */
  readonly manager: SessionManager;
}

/**
 * express-session's interface on Strongroom sessions: an app changes its import and its
 * options, and its routes and Passport keep working, with Strongroom's guarantees (tokens
 * stored only hashed, encrypted data, server-side idle and absolute timeouts, rotation with
 * theft detection, CSRF checks on every unsafe request, 503 when the store fails).
 *
 * `req.session.<key> = value` is saved at the end of the request (before the response goes
 * out), or by `req.session.save()`; only changed keys are written, merged with concurrent
 * writes. A change of user in the data (Passport's `req.login()` / `req.logout()`) is a real
 * login — new token and session id — or logout, which ends the session on the server.
 *
 * Forms need a CSRF token: render `req.csrfToken()` into a `_csrf` field (as with csurf), or
 * send it as `X-CSRF-Token`.
 *
 * @throws {ConfigError} an unsafe or unknown option, each with what to do instead.
 * @example
 * ```ts
 * import { expressSession } from 'strongroom/express-session';
 * import { createSQLiteStore } from 'strongroom/stores/sqlite';
 *
 * const session = expressSession({
 *   store: createSQLiteStore({ path: 'sessions.db' }),
 *   keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''),
 *   csrf: { origins: ['https://app.example'] },
 *   cookie: { maxAge: 7 * 24 * 3600 * 1000 },
 *   absoluteTimeoutSeconds: 30 * 24 * 3600,
 * });
 * app.use(express.urlencoded({ extended: false }), session);
 * app.use(passport.session());
 * // … routes, unchanged …
 * app.use(session.errorHandler);
 * ```
 */
export function expressSession(options: ExpressSessionOptions): ExpressSessionMiddleware {
  const resolved = resolveCompatOptions(options);
  const manager = createManager(resolved.manager, resolved.problems);
  const auth = expressSessions(manager, resolved.adapter);
  const { settings } = resolved;

  function csrfToken(this: Request): string {
    return auth.session(this).csrfToken();
  }
  const middleware: RequestHandler = (req, res, next) => {
    auth.middleware(req, res, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      new RequestSession(auth.session(req), settings, req, next).attach(res, csrfToken);
      next();
    });
  };
  return Object.assign(middleware, {
    errorHandler: auth.errorHandler,
    requireUser: (guard?: RequireUserOptions) => auth.requireUser(guard),
    session: (req: Request) => auth.session(req),
    manager,
  });
}

export default expressSession;

/** The manager, with the compatibility layer's own problems reported alongside its own. */
function createManager(
  options: Parameters<typeof createSessionManager>[0],
  problems: readonly ConfigProblem[],
): SessionManager {
  try {
    const manager = createSessionManager(options);
    if (problems.length > 0) throw new ConfigError(problems);
    return manager;
  } catch (error) {
    if (problems.length === 0 || !isStrongroomError(error, 'ERR_CONFIG')) throw error;
    const theirs = error.problems.filter((p) => !problems.some((ours) => ours.path === p.path));
    throw new ConfigError([...problems, ...theirs]);
  }
}
