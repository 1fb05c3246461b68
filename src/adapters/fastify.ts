import type { FastifyPluginCallback, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { SessionManager } from '../core/manager.js';
import type { Session, SessionData } from '../core/session.js';
import { createCSRFExemptions } from './shared/csrf-input.js';
import { parseErrorsMode } from './shared/error-answers.js';
import type { RequireUserOptions } from './shared/require-user.js';
import { safeReturnPath } from './shared/return-path.js';
import { createSessionLoader } from './shared/session-loader.js';
import {
  createErrorHandler,
  createRequireUser,
  type FastifyErrorHandler,
} from './fastify/handlers.js';
import { createSessionAccessor, createSessionPlugin } from './fastify/plugin.js';
import { FASTIFY_HOOKS } from './fastify/request.js';

export { safeReturnPath };
export type { FastifyErrorHandler };
export type { RequireUserOptions, UnauthenticatedBody } from './shared/require-user.js';

/**
 * Fastify 5 integration.
 *
 * HTTPS detection and the client IP come from Fastify itself (`request.protocol`,
 * `request.ip`), so `X-Forwarded-Proto` / `X-Forwarded-For` are honoured only when the app sets
 * Fastify's `trustProxy` option: proxy headers are never trusted by default (SM-44, SM-59).
 *
 * @example
 * ```ts
 * const sessions = createSessionManager<{ cart: string[] }>({ store, keys });
 * const auth = fastifySessions(sessions);
 * await app.register(auth.plugin);
 * app.post<{ Body: { item: string } }>('/cart', async (request, reply) => {
 *   const session = auth.session(request);
 *   await session.set('cart', [...(session.get('cart') ?? []), request.body.item]);
 *   return reply.code(204).send();
 * });
 * app.setErrorHandler(auth.errorHandler);
 * ```
 */
export interface FastifySessions<Data extends SessionData> {
  /**
   * Loads the session of every request in the scope it is registered in and that scope's
   * children (it is wrapped with `fastify-plugin`), never in sibling scopes. Its hooks:
   * `onRequest` notes the arrival (the rotation grace window is measured from it, SM-20) and
   * sets `Vary`; `preValidation` loads the session, after Fastify has parsed the body; `onSend`
   * adds the session's Set-Cookie headers last and `Cache-Control: no-store` where a session is
   * involved. Register it once per scope chain, before the routes it covers.
   *
   * @example
   * ```ts
   * await app.register(auth.plugin); // every route of the app
   * await app.register(async (admin) => {
   *   await admin.register(auth.plugin); // only the routes under /admin
   * }, { prefix: '/admin' });
   * ```
   */
  readonly plugin: FastifyPluginCallback;
  /**
   * The request's session, typed by the manager's data, from a `preHandler` hook or a handler
   * (the session is loaded in `preValidation`). Throws `InvalidArgumentError` if the plugin did
   * not run for this request: it is not registered in this route's scope, or this is an
   * `onRequest` or `preParsing` hook.
   *
   * @example
   * ```ts
   * app.get('/me', async (request) => ({ user: auth.session(request).userId }));
   * ```
   */
  session(request: FastifyRequest): Session<Data>;
  /**
   * A `preHandler` hook for routes that need a signed-in user. A signed-in request passes on.
   * Any other gets `Cache-Control: no-store` and `Vary: Accept`, and then: a client whose
   * `Accept` prefers `text/html` (a browser navigation or form post) is sent `303 See Other` to
   * `loginPath`, with `?returnTo=<the path it asked for>` on GET and HEAD requests; anything
   * else (`fetch`, API clients, no `Accept`) gets
   * `401 { "error": "ERR_UNAUTHENTICATED", "message": … }` as JSON.
   *
   * `returnTo` is only ever a path on this site, never an absolute or scheme-relative URL. The
   * login route must still check it with {@link safeReturnPath} before redirecting there: anyone
   * can link to `/login?returnTo=https://evil.example` (open redirect, CWE-601).
   *
   * @example
   * ```ts
   * app.get('/account', { preHandler: auth.requireUser() }, async (request) => ({
   *   user: auth.session(request).userId,
   * }));
   * await app.register(async (api) => {
   *   api.addHook('preHandler', auth.requireUser()); // 401 JSON for the whole API scope
   * }, { prefix: '/api' });
   * app.post<{ Querystring: { returnTo?: string } }>('/login', async (request, reply) => {
   *   // … check the password, then:
   *   await auth.session(request).login(user.id);
   *   return reply.redirect(safeReturnPath(request.query.returnTo) ?? '/account', 303);
   * });
   * ```
   */
  requireUser(options?: RequireUserOptions): preHandlerHookHandler;
  /**
   * For `app.setErrorHandler`: answers Strongroom errors with their status (503 store
   * unavailable, 401 session ended or re-authentication required, 403 CSRF / insecure
   * transport, 409 session limit, 429 token guessing, with `Retry-After` for 503 and 429),
   * `Cache-Control: no-store`, and a JSON `{ error, message }` (plus `reason` for CSRF) — or,
   * with `errors: 'negotiate'`, an HTML page for clients that prefer HTML. The `Content-Type`
   * sent is always the body's, even when the app had set another before the error. Any other
   * error is thrown again, so the parent scope's error handler (or Fastify's default one) gets
   * it. Without it, Fastify's default handler still answers with the error's status code.
   * Set it before registering the scopes it should cover: Fastify gives each scope and route
   * the error handler set when it was created.
   *
   * @example
   * ```ts
   * app.setErrorHandler(auth.errorHandler);
   * ```
   */
  readonly errorHandler: FastifyErrorHandler;
}

/**
 * Options of {@link fastifySessions}; each is checked once, when the adapter is created.
 *
 * @example
 * ```ts
 * const auth = fastifySessions(manager, { errors: 'negotiate', csrfExemptPaths: ['/hooks/payment'] });
 * ```
 */
export interface FastifySessionsOptions {
  /**
   * Request paths exempt from CSRF checks, for webhooks that authenticate otherwise (a signature
   * header). Each is compared, exactly and case-sensitively, with the path of `request.url`
   * without its query: the full path the client asked for, plugin prefixes included (after the
   * app's `rewriteUrl`, if it has one). Nothing is decoded or normalised first, even where
   * Fastify's router would route the request to the same handler: `/hooks/x/../payment`,
   * `/hooks/%70ayment`, `//hooks/payment` and `/hooks/payment/` are not `/hooks/payment`, and
   * an absolute-form request target (`POST http://host/hooks/payment`) is never exempt. No
   * prefixes or patterns. Registering the webhook route in a scope without the plugin works
   * too.
   * @default []
   * @example
   * ```ts
   * const auth = fastifySessions(manager, { csrfExemptPaths: ['/hooks/payment'] });
   * ```
   */
  readonly csrfExemptPaths?: readonly string[];
  /**
   * How {@link FastifySessions.errorHandler} answers. `json`: always JSON
   * `{ error, message }`. `negotiate`: clients whose `Accept` prefers `text/html` (browser
   * navigations and form posts) get a minimal HTML page with the status and a plain-language
   * message — never the error message, a stack or anything from the request — and everything
   * else gets the JSON; `Vary: Accept` says so to caches.
   * @default 'json'
   * @example
   * ```ts
   * const auth = fastifySessions(manager, { errors: 'negotiate' });
   * app.setErrorHandler(auth.errorHandler); // a browser sees a page, fetch() gets JSON
   * ```
   */
  readonly errors?: 'json' | 'negotiate';
}

/**
 * Connects a session manager to Fastify 5: `auth.plugin` loads the session (and runs the CSRF
 * checks) before your routes, `auth.session(request)` returns it, `auth.requireUser()` guards
 * routes, `auth.errorHandler` answers Strongroom errors.
 *
 * The `_csrf` field of a form post is read from the parsed `request.body`: register
 * `@fastify/formbody` (in any order). Without a parser for a form's content type, Fastify
 * itself answers 415. When a form post fails CSRF with `token-missing` because a parser left
 * its fields out of `request.body` (`@fastify/multipart` without `attachFieldsToBody`), the
 * error's message says so, and a process warning `STRONGROOM_BODY_NOT_PARSED` is emitted once.
 * The first plain-HTTP request seen while the manager issues cookies over HTTPS only
 * (`cookie.secure: 'always'`) emits the warning `STRONGROOM_INSECURE_TRANSPORT` once: such
 * visitors stay anonymous, and `login()` throws `InsecureTransportError`. Each warning is
 * emitted at most once per `fastifySessions()` call. A reply the app hijacks
 * (`reply.hijack()`) or writes through `reply.raw` skips the headers set on the reply and the
 * `onSend` hooks, so it carries none of the session's cookies: do not change the session there.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import formbody from '@fastify/formbody';
 * import { createSessionManager } from 'strongroom';
 * import { fastifySessions } from 'strongroom/fastify';
 *
 * const auth = fastifySessions(createSessionManager({ store, keys }), { errors: 'negotiate' });
 * const app = Fastify({ trustProxy: 'loopback' }); // TLS ends at a proxy on this host
 * await app.register(formbody);
 * await app.register(auth.plugin);
 * app.setErrorHandler(auth.errorHandler);
 * app.get('/account', { preHandler: auth.requireUser() }, async (request) => ({
 *   user: auth.session(request).userId,
 * }));
 * ```
 */
export function fastifySessions<Data extends SessionData>(
  manager: SessionManager<Data>,
  options: FastifySessionsOptions = {},
): FastifySessions<Data> {
  // A symbol property per adapter instance, declared with `decorateRequest`: cheaper than a
  // WeakMap on the hot path, invisible to other code, and no global type augmentation of
  // Fastify's request.
  const slot = Symbol('strongroom.session');
  const csrfModeFor = createCSRFExemptions(options.csrfExemptPaths);
  const errorHandler = createErrorHandler(parseErrorsMode(options.errors, 'fastifySessions'));
  const loader = createSessionLoader(manager, FASTIFY_HOOKS);
  const plugin = createSessionPlugin({ slot, loader, csrfModeFor });
  const session = createSessionAccessor<Data>(slot);

  function requireUser(guard: RequireUserOptions = {}): preHandlerHookHandler {
    return createRequireUser(session, guard);
  }

  return { plugin, session, requireUser, errorHandler };
}
