import type { Context, MiddlewareHandler } from 'hono';
import { InvalidArgumentError } from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { Session, SessionData, UntypedSessionData } from '../core/session.js';
import { resolveLoginRedirect, type RequireUserOptions } from './shared/require-user.js';
import { safeReturnPath } from './shared/return-path.js';
import { isHTTPSURL, type WebConnection } from './web/connection.js';
import { WebSessionCore } from './web/sessions.js';
import type { WebSessionsOptions } from './web.js';
import { replaceResponse, socketAddress } from './hono/context.js';

export { safeReturnPath };
export type { WebConnection };
export type { RequireUserOptions, UnauthenticatedBody } from './shared/require-user.js';

/** What the middleware puts on the context: `c.var.session`, typed by the manager's data. */
export type SessionVariables<Data extends SessionData = UntypedSessionData> = {
  session: Session<Data>;
};

/**
 * The Hono environment of an app that uses the middleware: `new Hono<SessionEnv<Data>>()`.
 * Combine it with your own bindings and variables as Hono's types allow
 * (`{ Bindings: …; Variables: SessionVariables<Data> & { … } }`).
 */
export type SessionEnv<Data extends SessionData = UntypedSessionData> = {
  Variables: SessionVariables<Data>;
};

/**
 * Hono integration, built on the web adapter (`strongroom/web`). No global type augmentation:
 * type the app with {@link SessionEnv}.
 *
 * @example
 * ```ts
 * const auth = honoSessions(createSessionManager<{ cart: string[] }>({ store, keys }));
 * const app = new Hono<SessionEnv<{ cart: string[] }>>();
 * app.use(auth.middleware);
 * app.post('/cart', async (c) => {
 *   const { item } = await c.req.parseBody(); // the body is still yours to read
 *   const { session } = c.var;
 *   await session.set('cart', [...(session.get('cart') ?? []), String(item)]);
 *   return c.body(null, 204);
 * });
 * ```
 */
export interface HonoSessions<Data extends SessionData> {
  /**
   * Loads the session (and runs the CSRF checks) into `c.var.session`, and completes every
   * response that passes back through it: the session's Set-Cookie headers, `Vary`, and
   * `Cache-Control: no-store` when private (see `LoadedWebSession.apply` in
   * `strongroom/web`). It also answers Strongroom errors, no `app.onError` needed: one raised
   * by the load, and one thrown by a later handler (Hono's own error handler runs first, then
   * the middleware replaces that answer): 503 store unavailable, 401, 403 CSRF, 409, 429,
   * with `Retry-After` for 503 and 429, as JSON, or with `errors: 'negotiate'` an HTML page
   * for browsers. Other errors keep the answer of `app.onError` (or Hono's 500).
   */
  readonly middleware: MiddlewareHandler<SessionEnv<Data>>;
  /**
   * A guard for routes that need a signed-in user; mount it after {@link middleware}. A
   * signed-in request passes on. Any other gets `Cache-Control: no-store` and
   * `Vary: Cookie, Accept`, and then a client whose `Accept` prefers `text/html` is sent
   * `303 See Other` to `loginPath` (with `?returnTo=<the path it asked for>` on GET and HEAD);
   * anything else gets `401 { "error": "ERR_UNAUTHENTICATED", "message": … }` as JSON. The
   * login route must check `returnTo` with {@link safeReturnPath} before redirecting there
   * (open redirect, CWE-601).
   *
   * @throws {InvalidArgumentError} `loginPath` is not a path on this site.
   * @example
   * ```ts
   * app.get('/account', auth.requireUser(), (c) => c.text(`Signed in as ${c.var.session.userId}`));
   * app.use('/api/*', auth.requireUser()); // 401 JSON for the API
   * app.post('/login', async (c) => {
   *   // … check the password, then:
   *   await c.var.session.login(user.id);
   *   return c.redirect(safeReturnPath(c.req.query('returnTo')) ?? '/account', 303);
   * });
   * ```
   */
  requireUser(options?: RequireUserOptions): MiddlewareHandler<SessionEnv<Data>>;
}

export interface HonoSessionsOptions extends Omit<WebSessionsOptions, 'connection'> {
  /**
   * How the request arrived, for hosts whose request URL does not tell. Without it: `secure`
   * is whether `c.req.url` is an `https:` URL, and the IP is the socket's address on
   * `@hono/node-server` (`c.env.incoming.socket.remoteAddress`), else unknown. Request headers
   * are never read for either unless `trustProxy` is on or this function reads them itself.
   * On other hosts, give the IP here: the token-guessing limit (`unknownTokenLimit`) counts
   * clients by it, and does not throttle requests without one.
   * @default (c) => ({ secure: c.req.url.startsWith('https:'), ip: c.env?.incoming?.socket?.remoteAddress ?? null })
   * @example
   * ```ts
   * import { getConnInfo } from 'hono/bun';
   * const auth = honoSessions(manager, {
   *   connection: (c) => ({ secure: true, ip: getConnInfo(c).remote.address ?? null }),
   * });
   * ```
   */
  readonly connection?: (c: Context) => WebConnection;
}

/**
 * Connects a session manager to Hono 4: `auth.middleware` loads the session into
 * `c.var.session` and answers Strongroom errors, `auth.requireUser()` guards routes. Routes
 * the middleware is not mounted on are left alone.
 *
 * The `_csrf` field of a form post is read from a clone of the body (at most `formBodyLimit`
 * bytes), so `c.req.parseBody()` still works in the route. Mount the middleware before any
 * middleware that reads the body: a form post whose body was already consumed fails CSRF with
 * `token-missing`, says why, and emits the process warning `STRONGROOM_BODY_NOT_PARSED` once.
 * The first plain-HTTP request while the manager issues cookies over HTTPS only emits
 * `STRONGROOM_INSECURE_TRANSPORT` once.
 *
 * @throws {InvalidArgumentError} an option is not one of its documented values.
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createSessionManager } from 'strongroom';
 * import { honoSessions, type SessionEnv } from 'strongroom/hono';
 *
 * const auth = honoSessions(createSessionManager({ store, keys }), { errors: 'negotiate' });
 * const app = new Hono<SessionEnv>();
 * app.use(auth.middleware);
 * app.get('/account', auth.requireUser(), (c) => c.text(`Signed in as ${c.var.session.userId}`));
 * ```
 */
export function honoSessions<Data extends SessionData>(
  manager: SessionManager<Data>,
  options: HonoSessionsOptions = {},
): HonoSessions<Data> {
  const { connection, ...shared } = options;
  if (connection !== undefined && typeof connection !== 'function')
    throw new InvalidArgumentError('honoSessions(): connection must be a function');
  const core = new WebSessionCore(manager, shared, HONO_ADVICE);

  const middleware: MiddlewareHandler<SessionEnv<Data>> = async (c, next) => {
    const request = c.req.raw;
    let loaded;
    try {
      loaded = await (connection === undefined
        ? core.loadWith(request, isHTTPSURL(request.url), socketAddress(c))
        : core.load(request, connection(c)));
    } catch (error) {
      const answer = core.errorResponse(error, request);
      if (answer === null) throw error;
      return answer;
    }
    c.set('session', loaded.session);
    await next();
    // Hono's compose caught what a later handler threw, and onError answered it.
    const answer = c.error === undefined ? null : core.errorResponse(c.error, request);
    if (answer !== null) replaceResponse(c, answer);
    const completed = loaded.apply(c.res);
    if (completed !== c.res) replaceResponse(c, completed);
  };

  function requireUser(guard: RequireUserOptions = {}): MiddlewareHandler<SessionEnv<Data>> {
    const redirect = resolveLoginRedirect(guard);
    return async (c, next) => {
      const session = c.get('session') as Session<Data> | undefined;
      if (session === undefined) {
        throw new InvalidArgumentError(
          'No session on this request: mount the Strongroom middleware before this route',
        );
      }
      if (session.userId === null) return core.unauthenticated(c.req.raw, redirect);
      await next();
    };
  }

  return { middleware, requireUser };
}

const HONO_ADVICE = {
  framework: 'honoSessions()',
  trustProxy:
    'give honoSessions() a connection function that reports secure: true, or trustProxy: true if every request comes through that proxy',
  parseBody:
    'mount the Strongroom middleware before any middleware that reads the body (c.req.parseBody(), a validator)',
};
