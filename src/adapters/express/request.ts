import type { Request, RequestHandler } from 'express';
import { requestPathOf } from '../shared/csrf-input.js';
import { announcesFormBody } from '../shared/form-body.js';
import { AdapterRequestContext, arrivalTime } from '../shared/request-context.js';
import type { LoaderHooks } from '../shared/session-loader.js';

/** Shared by every adapter instance: one arrival per request. */
const ARRIVED = Symbol('strongroom.arrived');
type Stamped = Request & { [ARRIVED]?: number };

export const stampArrival: RequestHandler = (req, _res, next) => {
  (req as Stamped)[ARRIVED] ??= arrivalTime();
  next();
};

/** The request as the core sees it. */
export class ExpressRequestContext extends AdapterRequestContext {
  readonly #req: Request;

  constructor(req: Request, csrf: 'verify' | 'skip') {
    const { headers } = req;
    super({
      method: req.method,
      cookieHeader: headers.cookie,
      secure: req.secure,
      fetchSite: headers['sec-fetch-site'],
      origin: headers.origin,
      body: req.body as unknown,
      csrfHeader: headers['x-csrf-token'],
      csrf,
      arrivedAt: (req as Stamped)[ARRIVED],
    });
    this.#req = req;
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
export function requestPath(req: Request): string {
  return requestPathOf(req.originalUrl);
}

/** Whether the client ranks HTML above JSON; a tie (a wildcard, no `Accept`) is JSON. */
export function prefersHTML(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

/**
 * What the session loader needs to know about an Express request. A body counts as read when a
 * parser consumed the stream; one for another type (Express 4's `express.json()` sets
 * `req.body = {}`) has not.
 */
export const EXPRESS_HOOKS: LoaderHooks<Request> = {
  framework: 'Express',
  trustProxy: `set Express's "trust proxy" (app.set('trust proxy', …)) so that req.secure is true`,
  parseBody: 'mount express.urlencoded() (or your body parser) before the Strongroom middleware',
  forwardedProto: (req) => req.headers['x-forwarded-proto'],
  bodyNotParsed(req) {
    const { headers } = req;
    const announced = announcesFormBody({
      method: req.method,
      csrfHeader: headers['x-csrf-token'],
      contentType: headers['content-type'],
      transferEncoding: headers['transfer-encoding'],
      contentLength: headers['content-length'],
    });
    const body: unknown = req.body;
    return announced && (body === undefined || !req.readableEnded);
  },
};
