import type { SessionManager } from '../core/manager.js';
import type { Session, SessionData } from '../core/session.js';
import { resolveLoginRedirect, type RequireUserOptions } from './shared/require-user.js';
import { safeReturnPath } from './shared/return-path.js';
import type { WebConnection } from './web/connection.js';
import { createHandler, WebSessionCore, type WebHandlerOptions } from './web/sessions.js';

export { safeReturnPath };
export type { WebConnection, WebHandlerOptions };
export type { RequireUserOptions, UnauthenticatedBody } from './shared/require-user.js';

/** A loaded session and the one step its response still needs (see {@link WebSessions.load}). */
export interface LoadedWebSession<Data extends SessionData> {
  readonly session: Session<Data>;
  /**
   * Completes the app's response, and returns it: adds the session's Set-Cookie headers (any
   * Set-Cookie of the app's with one of our cookie names is dropped, its other cookies are
   * kept), merges `Vary: Cookie` (plus `Origin, Sec-Fetch-Site` for unsafe methods) with the
   * response's own `Vary`, each entry once (SM-47), and sets `Cache-Control: no-store` when a
   * cookie was set or the visitor has a stored session (SM-48). An immutable response
   * (`Response.redirect()`, a `fetch()` result) is copied into a new one with the same status,
   * status text, headers and body; any other is changed in place. `Response.error()` is
   * returned as it is. The session must not change after this: it then throws.
   */
  apply(response: Response): Response;
}

/**
 * Sessions for any `(request: Request) => Response` handler: Next.js route handlers, Bun and
 * Deno fetch handlers, Cloudflare-style workers, a node:http bridge.
 *
 * HTTPS detection comes from the request URL's scheme (the host builds that URL from the
 * connection it accepted) or from the `connection` option; `X-Forwarded-Proto` and
 * `X-Forwarded-For` count only with `trustProxy: true` (SM-44, SM-59).
 *
 * @example
 * ```ts
 * const auth = webSessions(createSessionManager<{ cart: string[] }>({ store, keys }));
 * export const POST = auth.handler(async (request, session) => {
 *   const form = await request.formData(); // the body is still yours to read
 *   await session.set('cart', [...(session.get('cart') ?? []), String(form.get('item'))]);
 *   return new Response(null, { status: 204 });
 * });
 * ```
 */
export interface WebSessions<Data extends SessionData> {
  /**
   * Wraps a handler: loads the session (running the CSRF checks), calls `fn` with the request,
   * the session and any further arguments the host passes (Next.js passes `{ params }`),
   * answers Strongroom errors thrown by the load or by `fn` as {@link errorResponse} does
   * (other errors are rethrown for the host to answer), and applies the session's headers to
   * the response ({@link LoadedWebSession.apply}), error answers included: a cookie set before
   * the error (after a login, say) still reaches the browser.
   *
   * @example
   * ```ts
   * // app/orders/[id]/route.ts
   * export const GET = auth.handler(
   *   async (request, session, { params }: { params: Promise<{ id: string }> }) =>
   *     Response.json(await orders.find(session.userId!, (await params).id)),
   *   { requireUser: true },
   * );
   * ```
   */
  handler<Args extends unknown[]>(
    fn: (request: Request, session: Session<Data>, ...args: Args) => Response | Promise<Response>,
    options?: WebHandlerOptions,
  ): (request: Request, ...args: Args) => Promise<Response>;
  /**
   * Loads the request's session, for frameworks that run the handler themselves: call
   * {@link LoadedWebSession.apply} on the response. `connection` says how this request arrived
   * and takes precedence over the `connection` option.
   *
   * For an unsafe form post without an `X-CSRF-Token` header, `_csrf` is read from a clone of
   * the body (at most `formBodyLimit` bytes): the request's own body stays unread for the app.
   *
   * @throws {CSRFError} an unsafe request failed either CSRF layer (403).
   * @throws {TooManyRequestsError} the client presented too many unknown tokens (429).
   * @throws {StoreUnavailableError} the store failed (503).
   * @example
   * ```ts
   * const loaded = await auth.load(request, { secure: true, ip: socket.remoteAddress });
   * const response = await app(request, loaded.session);
   * return loaded.apply(response);
   * ```
   */
  load(request: Request, connection?: WebConnection): Promise<LoadedWebSession<Data>>;
  /**
   * The answer to a Strongroom error as a Response, or null for any other error: its status
   * (503 store unavailable, 401 session ended or re-authentication required, 403 CSRF or
   * insecure transport, 409 session limit, 429 token guessing, with `Retry-After` for 503 and
   * 429), `Cache-Control: no-store`, the session's `Vary`, and a JSON `{ error, message }`
   * (plus `reason` for CSRF), or with `errors: 'negotiate'` an HTML page for clients that
   * prefer HTML. Pass it to `apply` when the session was loaded, so that its cookies go out.
   *
   * @example
   * ```ts
   * try {
   *   return loaded.apply(await app(request, loaded.session));
   * } catch (error) {
   *   const answer = auth.errorResponse(error, request);
   *   if (answer === null) throw error;
   *   return loaded.apply(answer);
   * }
   * ```
   */
  errorResponse(error: unknown, request: Request): Response | null;
  /**
   * What `requireUser` answers a visitor who is not signed in: `Cache-Control: no-store`,
   * `Vary: Cookie, Accept`, and then a client whose `Accept` prefers `text/html` is sent
   * `303 See Other` to `loginPath` (with `?returnTo=<the path it asked for>` on GET and HEAD);
   * any other gets `401 { "error": "ERR_UNAUTHENTICATED", "message": … }`. The login route
   * must check `returnTo` with {@link safeReturnPath} before redirecting there (CWE-601).
   *
   * @throws {InvalidArgumentError} `loginPath` is not a path on this site.
   * @example
   * ```ts
   * if (session.userId === null) return auth.unauthenticated(request, { loginPath: '/signin' });
   * ```
   */
  unauthenticated(request: Request, options?: RequireUserOptions): Response;
}

export interface WebSessionsOptions {
  /**
   * Request paths exempt from CSRF checks, for webhooks that authenticate otherwise (a signature
   * header). Each is compared, exactly and case-sensitively, with the path of `request.url`,
   * the path your router matches: nothing is percent-decoded, so `/hooks/%70ayment` and
   * `/hooks/payment/` are not `/hooks/payment`. (The host resolved `.` and `..` segments when
   * it built the URL, for the router and for this check alike.) No prefixes or patterns.
   * @default []
   * @example
   * ```ts
   * const auth = webSessions(manager, { csrfExemptPaths: ['/hooks/payment'] });
   * ```
   */
  readonly csrfExemptPaths?: readonly string[];
  /**
   * How Strongroom errors are answered. `json`: always JSON `{ error, message }`. `negotiate`:
   * clients whose `Accept` prefers `text/html` get a minimal HTML page with the status and a
   * plain-language message (never the error message, a stack or anything from the request);
   * everything else gets the JSON, and `Vary: Accept` says so to caches.
   * @default 'json'
   * @example
   * ```ts
   * const auth = webSessions(manager, { errors: 'negotiate' });
   * ```
   */
  readonly errors?: 'json' | 'negotiate';
  /**
   * How the host says a request arrived, for hosts whose request URL does not tell (a bridge
   * that always builds `http://` URLs, a proxy in front). Without it: `secure` is whether the
   * URL's scheme is `https:`, and the IP is unknown. Request headers are never read for either
   * unless `trustProxy` is on or this function reads them itself.
   *
   * Give the IP whenever the host knows it: the token-guessing limit (`unknownTokenLimit`,
   * SM-55) counts clients by it, and requests without one are not throttled at all (only
   * reported by `session.unknown_token`). The IP is also what `listUserSessions()` shows.
   * @default (request) => ({ secure: new URL(request.url).protocol === 'https:', ip: null })
   * @example
   * ```ts
   * const auth = webSessions(manager, {
   *   connection: (request) => ({ secure: true, ip: server.requestIP(request)?.address }), // Bun
   * });
   * ```
   */
  readonly connection?: (request: Request) => WebConnection;
  /**
   * `true`: the app is reachable only through proxies it trusts, which overwrite these headers.
   * Then `X-Forwarded-Proto`'s first value decides whether the request is HTTPS, and the
   * leftmost `X-Forwarded-For` entry is the client IP (each header, when absent, leaves the
   * connection's answer). Never set it where clients can reach the app directly: they could
   * claim HTTPS, or any address for the token-guessing limit and client binding.
   * @default false
   * @example
   * ```ts
   * const auth = webSessions(manager, { trustProxy: process.env.BEHIND_PROXY === '1' });
   * ```
   */
  readonly trustProxy?: boolean;
  /**
   * How many bytes of an unsafe form post's body (urlencoded or multipart, without an
   * `X-CSRF-Token` header) are read, from a clone, to find its `_csrf` field. A larger body is
   * not read, and the request fails CSRF with `token-missing`: send large uploads with the
   * token in the `X-CSRF-Token` header.
   * @default 1_048_576
   * @example
   * ```ts
   * const auth = webSessions(manager, { formBodyLimit: 64 * 1024 });
   * ```
   */
  readonly formBodyLimit?: number;
}

/**
 * Connects a session manager to Fetch API handlers: `auth.handler(fn)` wraps a whole handler,
 * `auth.load(request)` with `loaded.apply(response)`, `auth.errorResponse()` and
 * `auth.unauthenticated()` are the parts for frameworks.
 *
 * The first plain-HTTP request seen while the manager issues cookies over HTTPS only
 * (`cookie.secure: 'always'`) emits the process warning `STRONGROOM_INSECURE_TRANSPORT` once:
 * such visitors stay anonymous, and `login()` throws `InsecureTransportError`. A form post
 * whose body the app had already consumed before the load fails CSRF with `token-missing`,
 * says why in its message, and emits `STRONGROOM_BODY_NOT_PARSED` once.
 *
 * @throws {InvalidArgumentError} an option is not one of its documented values.
 * @example
 * ```ts
 * import { createSessionManager, parseKeyList } from 'strongroom';
 * import { webSessions } from 'strongroom/web';
 *
 * const sessions = createSessionManager({ store, keys: parseKeyList(process.env.STRONGROOM_KEYS ?? '') });
 * export const auth = webSessions(sessions, { errors: 'negotiate' });
 *
 * // app/account/route.ts
 * export const GET = auth.handler(
 *   (_request, session) => new Response(`Signed in as ${session.userId}`),
 *   { requireUser: true },
 * );
 * ```
 */
export function webSessions<Data extends SessionData>(
  manager: SessionManager<Data>,
  options: WebSessionsOptions = {},
): WebSessions<Data> {
  const core = new WebSessionCore(manager, options, WEB_ADVICE);
  return {
    handler: (fn, handlerOptions) => createHandler(core, fn, handlerOptions),
    load: (request, connection) => core.load(request, connection),
    errorResponse: (error, request) => core.errorResponse(error, request),
    unauthenticated: (request, guard) => core.unauthenticated(request, resolveLoginRedirect(guard)),
  };
}

const WEB_ADVICE = {
  framework: 'webSessions()',
  trustProxy:
    'give webSessions() a connection function that reports secure: true, or trustProxy: true if every request comes through that proxy',
  parseBody: 'let Strongroom load the session before anything reads the request body',
};
