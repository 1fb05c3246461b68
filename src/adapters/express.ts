import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { CookieSink, RequestContext } from '../core/engine.js';
import { isUnsafeMethod } from '../csrf/request-check.js';
import {
  CSRFError,
  InvalidArgumentError,
  StrongroomError,
  TooManyRequestsError,
} from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { Session, SessionData } from '../core/session.js';

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
   * Answers Strongroom errors with their status (503 store unavailable, 401 session ended or
   * re-authentication required, 403 CSRF / insecure transport, 409 session limit, 429 token
   * guessing, with `Retry-After` for 503 and 429) and a JSON `{ error, message }`.
   * Other errors pass through.
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
}

export function expressSessions<Data extends SessionData>(
  manager: SessionManager<Data>,
  options: ExpressSessionsOptions = {},
): ExpressSessions<Data> {
  // A symbol property per adapter instance: cheaper than a WeakMap on the hot path, invisible to
  // other code, and no global type augmentation of Express's Request.
  const slot = Symbol('strongroom.session');
  type WithSession = Request & { [slot]?: Session<Data> };
  const exempt = new Set(options.csrfExemptPaths ?? []);

  const middleware: RequestHandler = (req, res, next) => {
    // Every answer depends on the cookie (even an anonymous page must not be served from a
    // shared cache to a signed-in user), and an unsafe request's on the CSRF headers (SM-47).
    const vary = isUnsafeMethod(req.method) ? 'Origin, Sec-Fetch-Site, Cookie' : 'Cookie';
    if (res.hasHeader('Vary')) res.vary(vary);
    else res.setHeader('Vary', vary);
    const context = new ExpressRequestContext(req, exempt.has(requestPath(req)));
    manager.load(context, responseSink(res)).then(
      (session) => {
        (req as WithSession)[slot] = session;
        if (session.id !== null) markPrivate(res);
        next();
      },
      (error: unknown) => next(error),
    );
  };

  const errorHandler: ErrorRequestHandler = (error, _req, res, next) => {
    if (!(error instanceof StrongroomError) || res.headersSent) {
      next(error);
      return;
    }
    if (error.code === 'ERR_STORE_UNAVAILABLE') res.setHeader('Retry-After', '5');
    if (error instanceof TooManyRequestsError)
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
    const reason = error instanceof CSRFError ? { reason: error.reason } : {};
    res.status(error.status).json({ error: error.code, message: error.message, ...reason });
  };

  return {
    middleware,
    arrival: stampArrival,
    errorHandler,
    session(req) {
      const session = (req as WithSession)[slot];
      if (session === undefined) {
        throw new InvalidArgumentError(
          'No session on this request: mount the Strongroom middleware before this route',
        );
      }
      return session;
    },
  };
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
