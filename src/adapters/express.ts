import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { InvalidArgumentError } from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { Session, SessionData } from '../core/session.js';
import { createCSRFExemptions } from './shared/csrf-input.js';
import { parseErrorsMode } from './shared/error-answers.js';
import { isSessionPrivate } from './shared/response-headers.js';
import type { RequireUserOptions } from './shared/require-user.js';
import { safeReturnPath } from './shared/return-path.js';
import { createSessionLoader } from './shared/session-loader.js';
import { createErrorHandler, createRequireUser } from './express/handlers.js';
import {
  EXPRESS_HOOKS,
  ExpressRequestContext,
  requestPath,
  stampArrival,
} from './express/request.js';
import { markPrivate, varyOnSession } from './express/response.js';
import { responseSink } from './express/set-cookie.js';

export { safeReturnPath };
export type { RequireUserOptions, UnauthenticatedBody } from './shared/require-user.js';

/**
 * Express 4 and 5 integration.
 *
 * HTTPS detection and the client IP come from Express itself (`req.secure`, `req.ip`), so
 * `X-Forwarded-Proto` / `X-Forwarded-For` are honoured only when the app sets Express's
 * `trust proxy` setting: proxy headers are never trusted by default (SM-44, SM-59).
 *
 * @example
 * ```ts
 * const sessions = createSessionManager<{ cart: string[] }>({ store, keys });
 * const auth = expressSessions(sessions);
 * app.use(auth.middleware);
 * app.post('/cart', async (req, res) => {
 *   const session = auth.session(req);
 *   await session.set('cart', [...(session.get('cart') ?? []), req.body.item]);
 *   res.sendStatus(204);
 * });
 * app.use(auth.errorHandler);
 * ```
 */
export interface ExpressSessions<Data extends SessionData> {
  /** Loads the session before your routes run. */
  readonly middleware: RequestHandler;
  /**
   * Notes when the request arrived. Mount it first, before any body parser: the rotation grace
   * window is then measured from the arrival, so a slow upload sent with a token that rotated
   * meanwhile is not mistaken for a stolen one (SM-20). Without it, the arrival is when
   * {@link middleware} runs.
   */
  readonly arrival: RequestHandler;
  /** The request's session, typed by the manager's data. Throws if the middleware did not run. */
  session(req: Request): Session<Data>;
  /**
   * A guard for routes that need a signed-in user; mount it after {@link middleware}. A signed-in
   * request passes on. Any other gets `Cache-Control: no-store` and `Vary: Accept`, and then:
   * a client whose `Accept` prefers `text/html` (a browser navigation or form post) is sent
   * `303 See Other` to `loginPath`, with `?returnTo=<the path it asked for>` on GET and HEAD
   * requests; anything else (`fetch`, API clients, no `Accept`) gets
   * `401 { "error": "ERR_UNAUTHENTICATED", "message": … }` as JSON.
   *
   * `returnTo` is only ever a path on this site, never an absolute or scheme-relative URL. The
   * login route must still check it with {@link safeReturnPath} before redirecting there: anyone
   * can link to `/login?returnTo=https://evil.example` (open redirect, CWE-601).
   *
   * @example
   * ```ts
   * app.get('/account', auth.requireUser(), (req, res) => {
   *   res.render('account', { user: auth.session(req).userId });
   * });
   * app.use('/api', auth.requireUser()); // 401 JSON for the API
   * app.post('/login', async (req, res) => {
   *   // … check the password, then:
   *   await auth.session(req).login(user.id);
   *   res.redirect(303, safeReturnPath(req.query.returnTo) ?? '/account');
   * });
   * ```
   */
  requireUser(options?: RequireUserOptions): RequestHandler;
  /**
   * Answers Strongroom errors with their status (503 store unavailable, 401 session ended or
   * re-authentication required, 403 CSRF / insecure transport, 409 session limit, 429 token
   * guessing, with `Retry-After` for 503 and 429), `Cache-Control: no-store`, and a JSON
   * `{ error, message }` (plus `reason` for CSRF) — or, with `errors: 'negotiate'`, an HTML
   * page for clients that prefer HTML. The `Content-Type` sent is always the body's, even
   * when the app had set another before the error. Other errors pass through.
   */
  readonly errorHandler: ErrorRequestHandler;
}

export interface ExpressSessionsOptions {
  /**
   * Request paths exempt from CSRF checks, for webhooks that authenticate otherwise (a signature
   * header). Each is compared, exactly and case-sensitively, with the full path the client asked
   * for: the path of `req.originalUrl` without its query, mount prefixes included (so with the
   * middleware in a router mounted at `/admin`, list `/admin/hooks/payment`, not
   * `/hooks/payment`). Nothing is decoded or normalised first: `/hooks/x/../payment`,
   * `/hooks/%70ayment`, `//hooks/payment` and `/hooks/payment/` are not `/hooks/payment`, and
   * an absolute-form request target (`POST http://host/hooks/payment`) is never exempt. No
   * prefixes or patterns. Mounting the webhook route before the middleware works too.
   * @default []
   * @example
   * ```ts
   * const auth = expressSessions(manager, { csrfExemptPaths: ['/hooks/payment'] });
   * ```
   */
  readonly csrfExemptPaths?: readonly string[];
  /**
   * How {@link ExpressSessions.errorHandler} answers. `json`: always JSON
   * `{ error, message }`. `negotiate`: clients whose `Accept` prefers `text/html` (browser
   * navigations and form posts) get a minimal HTML page with the status and a plain-language
   * message — never the error message, a stack or anything from the request — and everything
   * else gets the JSON; `Vary: Accept` says so to caches.
   * @default 'json'
   * @example
   * ```ts
   * const auth = expressSessions(manager, { errors: 'negotiate' });
   * app.use(auth.errorHandler); // a browser sees a page, fetch() gets JSON
   * ```
   */
  readonly errors?: 'json' | 'negotiate';
}

/**
 * Connects a session manager to Express 4 or 5: `auth.middleware` loads the session (and runs
 * the CSRF checks) before your routes, `auth.session(req)` returns it, `auth.requireUser()`
 * guards routes, `auth.errorHandler` answers Strongroom errors.
 *
 * Mount the body parsers before `auth.middleware`: the `_csrf` field is read from the parsed
 * body. When a form post fails CSRF with `token-missing` because its body was not parsed yet,
 * the error's message says so, and a process warning `STRONGROOM_BODY_NOT_PARSED` is emitted
 * once. The first plain-HTTP request seen while the manager issues cookies over HTTPS only
 * (`cookie.secure: 'always'`) emits the warning `STRONGROOM_INSECURE_TRANSPORT` once: such
 * visitors stay anonymous, and `login()` throws `InsecureTransportError`. Each warning is
 * emitted at most once per `expressSessions()` call.
 *
 * @example
 * ```ts
 * import { createSessionManager, flash } from 'strongroom';
 * import { expressSessions, safeReturnPath } from 'strongroom/express';
 *
 * const auth = expressSessions(createSessionManager({ store, keys }), { errors: 'negotiate' });
 * app.use(auth.arrival, express.urlencoded({ extended: false }), auth.middleware);
 * app.get('/account', auth.requireUser(), async (req, res) => {
 *   res.render('account', { notice: await flash.take(auth.session(req)) });
 * });
 * app.post('/login', async (req, res) => {
 *   // … check the password, then:
 *   await auth.session(req).login(user.id);
 *   res.redirect(303, safeReturnPath(req.query.returnTo) ?? '/account');
 * });
 * app.use(auth.errorHandler);
 * ```
 */
export function expressSessions<Data extends SessionData>(
  manager: SessionManager<Data>,
  options: ExpressSessionsOptions = {},
): ExpressSessions<Data> {
  // A symbol property per adapter instance: cheaper than a WeakMap on the hot path, invisible to
  // other code, and no global type augmentation of Express's Request.
  const slot = Symbol('strongroom.session');
  type WithSession = Request & { [slot]?: Session<Data> };
  const csrfModeFor = createCSRFExemptions(options.csrfExemptPaths);
  const errorHandler = createErrorHandler(parseErrorsMode(options.errors, 'expressSessions'));
  const loader = createSessionLoader(manager, EXPRESS_HOOKS);

  const middleware: RequestHandler = (req, res, next) => {
    varyOnSession(res, req.method);
    const context = new ExpressRequestContext(req, csrfModeFor(requestPath(req)));
    loader.load(req, context, responseSink(res)).then(
      (session) => {
        (req as WithSession)[slot] = session;
        if (isSessionPrivate(session)) markPrivate(res);
        next();
      },
      (error: unknown) => next(loader.explain(error, req)),
    );
  };

  function session(req: Request): Session<Data> {
    const found = (req as WithSession)[slot];
    if (found === undefined) {
      throw new InvalidArgumentError(
        'No session on this request: mount the Strongroom middleware before this route',
      );
    }
    return found;
  }

  function requireUser(guard: RequireUserOptions = {}): RequestHandler {
    return createRequireUser(session, guard);
  }

  return { middleware, arrival: stampArrival, errorHandler, session, requireUser };
}
