import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { CookieSink, RequestContext } from '../core/request.js';
import { isUnsafeMethod } from '../csrf/request-check.js';
import {
  CSRFError,
  InsecureTransportError,
  InvalidArgumentError,
  StrongroomError,
  TooManyRequestsError,
} from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { Session, SessionData } from '../core/session.js';
import { errorPage, humanMessage } from './error-page.js';
import { safeReturnPath } from './return-path.js';

export { safeReturnPath };

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

export interface RequireUserOptions {
  /**
   * Where browsers are sent to sign in: a path on this site, which may carry a query.
   * @default '/login'
   */
  readonly loginPath?: string;
  /**
   * `query` adds `returnTo=<the path asked for>` (query included, percent-encoded) to the
   * redirect of a GET or HEAD request, when that path is a safe one on this site; `omit` never
   * adds it. Unsafe methods never carry it: after signing in, the browser would repeat the
   * request as a GET.
   * @default 'query'
   */
  readonly returnTo?: 'query' | 'omit';
}

/** The body of the 401 that {@link ExpressSessions.requireUser} sends to non-HTML clients. */
export interface UnauthenticatedBody {
  readonly error: 'ERR_UNAUTHENTICATED';
  readonly message: string;
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
  const exempt = new Set(options.csrfExemptPaths ?? []);
  const negotiate = errorMode(options.errors) === 'negotiate';
  const warnings = new Set<WarningCode>();
  let transportChecked = false;

  function warnOnce(code: WarningCode, message: string): void {
    if (warnings.has(code)) return;
    warnings.add(code);
    process.emitWarning(message, { type: 'StrongroomWarning', code });
  }

  /**
   * Once, at the first plain-HTTP request: whether the manager would refuse to issue a cookie
   * to it. The adapter cannot read the manager's configuration, so it asks the manager for a
   * CSRF token for a cookieless plain-HTTP visitor, which needs a cookie; the cookie goes to a
   * sink that drops it, and no store is touched.
   */
  async function checkTransport(req: Request): Promise<void> {
    transportChecked = true;
    const forwarded = claimsHTTPS(req.headers['x-forwarded-proto']);
    try {
      const probe = await manager.load(PLAIN_HTTP_PROBE, DISCARDING_SINK);
      probe.csrfToken();
    } catch (error) {
      if (error instanceof InsecureTransportError)
        warnOnce('STRONGROOM_INSECURE_TRANSPORT', insecureTransportWarning(forwarded));
    }
  }

  /** A form post whose token sat in a body nobody had parsed yet: say so, not just "missing". */
  function explain(error: unknown, req: Request): unknown {
    if (error instanceof CSRFError && error.reason === 'token-missing' && bodyNotParsed(req)) {
      error.message = `${error.message}. ${BODY_NOT_PARSED}`;
      warnOnce(
        'STRONGROOM_BODY_NOT_PARSED',
        `Strongroom: a form post failed its CSRF check (token-missing). ${BODY_NOT_PARSED}.`,
      );
    }
    return error;
  }

  const middleware: RequestHandler = (req, res, next) => {
    // Every answer depends on the cookie (even an anonymous page must not be served from a
    // shared cache to a signed-in user), and an unsafe request's on the CSRF headers (SM-47).
    const vary = isUnsafeMethod(req.method) ? 'Origin, Sec-Fetch-Site, Cookie' : 'Cookie';
    if (res.hasHeader('Vary')) res.vary(vary);
    else res.setHeader('Vary', vary);
    const context = new ExpressRequestContext(req, exempt.has(requestPath(req)));
    const sink = responseSink(res);
    const loading =
      context.secure || transportChecked
        ? manager.load(context, sink)
        : checkTransport(req).then(() => manager.load(context, sink));
    loading.then(
      (session) => {
        (req as WithSession)[slot] = session;
        if (session.id !== null) markPrivate(res);
        next();
      },
      (error: unknown) => next(explain(error, req)),
    );
  };

  const errorHandler: ErrorRequestHandler = (error, req, res, next) => {
    if (!(error instanceof StrongroomError) || res.headersSent) {
      next(error);
      return;
    }
    if (error.code === 'ERR_STORE_UNAVAILABLE') res.setHeader('Retry-After', '5');
    if (error instanceof TooManyRequestsError)
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
    markPrivate(res);
    if (negotiate) {
      res.vary('Accept');
      if (prefersHTML(req)) {
        sendHTML(res, error.status, errorPage(error.status, humanMessage(error.code)));
        return;
      }
    }
    const reason = error instanceof CSRFError ? { reason: error.reason } : {};
    sendJSON(res, error.status, { error: error.code, message: error.message, ...reason });
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
    const loginPath = safeReturnPath(guard.loginPath ?? '/login');
    if (loginPath === null) {
      throw new InvalidArgumentError(
        'requireUser: loginPath must be a path on this site, such as "/login"',
      );
    }
    const returnTo = guard.returnTo ?? 'query';
    if (returnTo !== 'query' && returnTo !== 'omit') {
      throw new InvalidArgumentError('requireUser: returnTo must be "query" or "omit"');
    }
    const separator = loginPath.includes('?') ? '&' : '?';
    return (req, res, next) => {
      let current: Session<Data>;
      try {
        current = session(req);
      } catch (error) {
        next(error);
        return;
      }
      if (current.userId !== null) {
        next();
        return;
      }
      // Whether the visitor is signed in decides this answer: no cache may keep it (SM-48).
      markPrivate(res);
      res.vary('Accept');
      if (!prefersHTML(req)) {
        const body: UnauthenticatedBody = {
          error: 'ERR_UNAUTHENTICATED',
          message: 'Sign in to continue',
        };
        sendJSON(res, 401, body);
        return;
      }
      const back =
        returnTo === 'query' && !isUnsafeMethod(req.method)
          ? safeReturnPath(req.originalUrl)
          : null;
      res.redirect(
        303,
        back === null ? loginPath : `${loginPath}${separator}returnTo=${encodeURIComponent(back)}`,
      );
    };
  }

  return { middleware, arrival: stampArrival, errorHandler, session, requireUser };
}

type WarningCode = 'STRONGROOM_INSECURE_TRANSPORT' | 'STRONGROOM_BODY_NOT_PARSED';

function errorMode(value: unknown): 'json' | 'negotiate' {
  if (value === undefined || value === 'json' || value === 'negotiate') return value ?? 'json';
  throw new InvalidArgumentError('expressSessions: errors must be "json" or "negotiate"');
}

const BODY_NOT_PARSED =
  'The form body had not been parsed when the Strongroom middleware ran, so its _csrf field could not be read: mount express.urlencoded() (or your body parser) before the Strongroom middleware, or send the token in the X-CSRF-Token header';

/**
 * Whether a proxy header says the client used HTTPS, read as Express reads it (the first
 * value). On a request Express found insecure, that means Express does not trust the proxy.
 */
function claimsHTTPS(header: string | string[] | undefined): boolean {
  return typeof header === 'string' && header.split(',', 1)[0]?.trim().toLowerCase() === 'https';
}

function insecureTransportWarning(forwarded: boolean): string {
  const proxy = forwarded
    ? ' This request carried "X-Forwarded-Proto: https", but Express does not trust the proxy that sent it.'
    : '';
  return (
    'Strongroom: a request arrived over plain HTTP while cookie.secure is "always": such visitors get no session cookie, and login() throws InsecureTransportError.' +
    `${proxy} Serve the app over HTTPS; behind a TLS-terminating proxy, set Express's "trust proxy" (app.set('trust proxy', …)) so that req.secure is true; for local development over http, set cookie.secure: "allow-http-development".`
  );
}

/** A cookieless plain-HTTP visitor, for {@link expressSessions}'s transport check. */
const PLAIN_HTTP_PROBE: RequestContext = {
  method: 'GET',
  cookieHeader: undefined,
  secure: false,
  ip: null,
  userAgent: null,
};
const DISCARDING_SINK: CookieSink = { setCookie: () => undefined };

const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);

/**
 * Whether an unsafe request announced a form body that no parser had read when the middleware
 * ran, and sent no `X-CSRF-Token` header instead. A parser that read the body has consumed the
 * stream; one for another type (Express 4's `express.json()` sets `req.body = {}`) has not.
 */
function bodyNotParsed(req: Request): boolean {
  const { headers } = req;
  if (!isUnsafeMethod(req.method) || headers['x-csrf-token'] !== undefined) return false;
  const type = headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  if (type === undefined || !FORM_TYPES.has(type)) return false;
  const announced =
    headers['transfer-encoding'] !== undefined || Number(headers['content-length']) > 0;
  const body: unknown = req.body;
  return announced && (body === undefined || !req.readableEnded);
}

/** Whether the client ranks HTML above JSON; a tie (a wildcard, no `Accept`) is JSON. */
function prefersHTML(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

/**
 * Headers that described the body the app meant to send; an error answer replaces that body,
 * so none of them may describe it (a JSON error labelled `text/html`, or sent as an attachment).
 */
const REPRESENTATION_HEADERS = [
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Range',
  'ETag',
  'Last-Modified',
] as const;

function send(res: Response, status: number, type: string, body: string): void {
  for (const name of REPRESENTATION_HEADERS) res.removeHeader(name);
  res.setHeader('Content-Type', type);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.status(status).send(body);
}

function sendJSON(res: Response, status: number, body: object): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function sendHTML(res: Response, status: number, page: string): void {
  send(res, status, 'text/html; charset=utf-8', page);
}

/** Shared by every adapter instance: one arrival per request. */
const ARRIVED = Symbol('strongroom.arrived');
type Stamped = Request & { [ARRIVED]?: number };

/** Monotonic, so that a wall-clock step never makes a request look older than it is. */
const stampArrival: RequestHandler = (req, _res, next) => {
  (req as Stamped)[ARRIVED] ??= performance.now();
  next();
};

/** The request as the core sees it. A class, so the lazy getters cost no closures per request. */
class ExpressRequestContext implements RequestContext {
  readonly method: string;
  readonly cookieHeader: string | undefined;
  readonly secure: boolean;
  readonly fetchSite: string | string[] | undefined;
  readonly origin: string | undefined;
  readonly csrfField: unknown;
  readonly csrfHeader: string | string[] | undefined;
  readonly csrf: 'verify' | 'skip';
  readonly ageMs: number;
  readonly #req: Request;

  constructor(req: Request, exempt: boolean) {
    const { headers } = req;
    const body: unknown = req.body;
    this.#req = req;
    this.method = req.method;
    this.cookieHeader = headers.cookie;
    this.secure = req.secure;
    this.fetchSite = headers['sec-fetch-site'];
    this.origin = headers.origin;
    // Only a body parsed before this middleware (urlencoded or JSON) can carry `_csrf`.
    this.csrfField =
      typeof body === 'object' && body !== null && Object.hasOwn(body, '_csrf')
        ? (body as Record<string, unknown>)._csrf
        : undefined;
    this.csrfHeader = headers['x-csrf-token'];
    this.csrf = exempt ? 'skip' : 'verify';
    const arrived = (req as Stamped)[ARRIVED];
    this.ageMs = arrived === undefined ? 0 : performance.now() - arrived;
  }

  // Express computes these per call (proxy trust), and most requests never need them.
  get ip(): string | null {
    return this.#req.ip ?? null;
  }

  get userAgent(): string | null {
    return this.#req.headers['user-agent'] ?? null;
  }
}

/**
 * The path the client asked for, mount prefixes included, exactly as sent. `req.path` is
 * relative to the router the middleware is mounted in, so matching it would let
 * `/admin/hooks/payment` pass as `/hooks/payment`.
 */
function requestPath(req: Request): string {
  const url = req.originalUrl;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** SM-48: responses that carry or depend on a session are never cached. */
function markPrivate(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}

/**
 * Our Set-Cookie headers, set at once (so `res.getHeader` shows them) and merged again when the
 * headers are written: an app that later calls `res.setHeader('Set-Cookie', …)` or
 * `res.writeHead(status, { 'Set-Cookie': … })` would otherwise drop them, and after a login the
 * browser would keep a token whose session is already gone.
 */
function responseSink(res: Response): CookieSink {
  return {
    setCookie(name, header) {
      if (res.headersSent) {
        throw new InvalidArgumentError(
          'The session changed after the response headers were sent; await session calls before responding',
        );
      }
      const ours = ourCookies(res);
      ours.set(name, header);
      res.setHeader('Set-Cookie', mergeSetCookies(headerValues(res.getHeader('Set-Cookie')), ours));
      markPrivate(res);
    },
  };
}

/**
 * Our Set-Cookie headers by cookie name, per response: one map and one `writeHead` wrapper per
 * response, even when several middleware instances (routers, two managers) set cookies on it.
 */
const cookiesByResponse = new WeakMap<Response, Map<string, string>>();

function ourCookies(res: Response): Map<string, string> {
  let ours = cookiesByResponse.get(res);
  if (ours === undefined) {
    ours = new Map();
    cookiesByResponse.set(res, ours);
    mergeCookiesOnWriteHead(res, ours);
  }
  return ours;
}

type HeaderValue = number | string | readonly string[] | undefined;
type WriteHead = (statusCode: number, reason?: unknown, headers?: unknown) => unknown;

/**
 * Wraps this response's `writeHead` (which `res.end()` calls too) so that our cookies survive
 * whatever the app passes: `writeHead(status)`, `(status, headers)`, `(status, reason)` and
 * `(status, reason, headers)`, with headers as an object or a flat `[name, value, …]` array.
 * Only the Set-Cookie part of the arguments is rewritten; Node applies the rest as usual.
 */
function mergeCookiesOnWriteHead(res: Response, ours: ReadonlyMap<string, string>): void {
  const original = (res.writeHead as WriteHead).bind(res);
  const writeHead: WriteHead = (statusCode, reason, headers) => {
    const given = typeof reason === 'string' ? headers : (headers ?? reason);
    const message = typeof reason === 'string' ? reason : undefined;
    const rewritten = withMergedSetCookie(given, ours);
    if (rewritten !== null) return original(statusCode, message, rewritten);
    // The app passes no Set-Cookie: Node keeps the header as it now stands on the response.
    res.setHeader('Set-Cookie', mergeSetCookies(headerValues(res.getHeader('Set-Cookie')), ours));
    return original(statusCode, message, given);
  };
  res.writeHead = writeHead as Response['writeHead'];
}

/**
 * `headers` with its Set-Cookie entries replaced by one merged entry, or null when it has none
 * (or is not a header object or flat array, which Node itself rejects).
 */
function withMergedSetCookie(
  headers: unknown,
  ours: ReadonlyMap<string, string>,
): Record<string, unknown> | unknown[] | null {
  if (Array.isArray(headers)) {
    // A flat [name, value, name, value] list. Node rejects an odd length (and a list of pairs
    // once a header is set, as ours is): those pass through unchanged for Node to throw.
    if (headers.length % 2 !== 0) return null;
    const rest: unknown[] = [];
    const theirs: string[] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name: unknown = headers[i];
      const value: unknown = headers[i + 1];
      if (isSetCookie(name)) theirs.push(...headerValues(value as HeaderValue));
      else rest.push(name, value);
    }
    if (theirs.length === 0) return null;
    return [...rest, 'Set-Cookie', mergeSetCookies(theirs, ours)];
  }
  if (typeof headers !== 'object' || headers === null) return null;
  const entries = Object.entries(headers as Record<string, unknown>);
  // With `Set-Cookie` and `set-cookie` both present, Node applies both in order: the last wins.
  const given = entries.filter(([name]) => isSetCookie(name)).at(-1);
  if (given === undefined) return null;
  const rest = Object.fromEntries(entries.filter(([name]) => !isSetCookie(name)));
  return { ...rest, 'Set-Cookie': mergeSetCookies(headerValues(given[1] as HeaderValue), ours) };
}

function isSetCookie(name: unknown): boolean {
  return typeof name === 'string' && name.toLowerCase() === 'set-cookie';
}

function headerValues(value: HeaderValue): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/**
 * The app's cookies, minus any that use one of our names, then ours: one header per cookie of
 * ours, and a session cookie the app copied or forged never competes with the real one.
 * Cookies of the app's own sharing a name are all kept (they may differ in Path or Domain).
 */
function mergeSetCookies(theirs: readonly string[], ours: ReadonlyMap<string, string>): string[] {
  const kept = theirs.filter((header) => !ours.has(cookieName(header)));
  return [...kept, ...ours.values()];
}

/** The name of a Set-Cookie header (RFC 6265 §5.2: up to the first `=`, trimmed). */
function cookieName(header: string): string {
  const pair = header.split(';', 1)[0] ?? '';
  const eq = pair.indexOf('=');
  return (eq === -1 ? '' : pair.slice(0, eq)).trim();
}
