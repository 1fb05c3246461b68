import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { CookieSink, RequestContext } from '../core/engine.js';
import { isUnsafeMethod } from '../csrf/request-check.js';
import { CSRFError, InvalidArgumentError, StrongroomError } from '../core/errors.js';
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
  /** The request's session, typed by the manager's data. Throws if the middleware did not run. */
  session(req: Request): Session<Data>;
  /**
   * Answers Strongroom errors with their status (503 store unavailable, 401 session ended or
   * re-authentication required, 403 CSRF / insecure transport) and a JSON `{ error, message }`.
   * Other errors pass through.
   */
  readonly errorHandler: ErrorRequestHandler;
}

export interface ExpressSessionsOptions {
  /**
   * Exact request paths (`req.path`) exempt from CSRF checks, for webhooks that authenticate
   * otherwise (a signature header). No prefixes or patterns: `/hooks/x/../logout` is not
   * `/hooks/x`. Mounting the webhook route before the middleware works too.
   * @default []
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
    manager.load(new ExpressRequestContext(req, exempt.has(req.path)), responseSink(res)).then(
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
    const reason = error instanceof CSRFError ? { reason: error.reason } : {};
    res.status(error.status).json({ error: error.code, message: error.message, ...reason });
  };

  return {
    middleware,
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
  }

  // Express computes these per call (proxy trust), and most requests never need them.
  get ip(): string | null {
    return this.#req.ip ?? null;
  }

  get userAgent(): string | null {
    return this.#req.headers['user-agent'] ?? null;
  }
}

/** SM-48: responses that carry or depend on a session are never cached. */
function markPrivate(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}

function responseSink(res: Response): CookieSink {
  return {
    setCookie(name, header) {
      if (res.headersSent) {
        throw new InvalidArgumentError(
          'The session changed after the response headers were sent; await session calls before responding',
        );
      }
      const existing = res.getHeader('Set-Cookie');
      const others = (
        existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)]
      ).filter((cookie) => !cookie.startsWith(`${name}=`));
      res.setHeader('Set-Cookie', [...others, header]);
      markPrivate(res);
    },
  };
}
