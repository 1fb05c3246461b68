import type { RequestContext } from '../../core/request.js';
import { csrfFieldOf } from './csrf-input.js';

/** A request as plain values, read from whatever the framework hands the adapter. */
export interface RequestValues {
  readonly method: string;
  /** The raw Cookie header(s). */
  readonly cookieHeader: string | readonly string[] | undefined;
  /** Whether the request reached the app over HTTPS (proxy headers only when trusted). */
  readonly secure: boolean;
  readonly fetchSite: string | readonly string[] | undefined;
  readonly origin: string | readonly string[] | undefined;
  readonly csrfHeader: string | readonly string[] | undefined;
  /** The body as parsed before the middleware ran (undefined when none was): `_csrf` is read from it. */
  readonly body: unknown;
  /** `skip` for a path exempt from CSRF checks (`createCSRFExemptions`). */
  readonly csrf: 'verify' | 'skip';
  /** When the request arrived ({@link arrivalTime}), if the adapter noted it. */
  readonly arrivedAt: number | undefined;
}

/**
 * The time an adapter notes as a request's arrival, as early as it can (before a body parser
 * ran). Monotonic, so that a wall-clock step never makes a request look older than it is.
 */
export function arrivalTime(): number {
  return performance.now();
}

/**
 * The request as the core sees it. Subclasses supply the client's IP and user agent as getters,
 * so that a framework that computes them per call (proxy trust) does so only when the core
 * needs them, which most requests never do; a class, so the lazy getters cost no closures.
 */
export abstract class AdapterRequestContext implements RequestContext {
  readonly method: string;
  readonly cookieHeader: string | readonly string[] | undefined;
  readonly secure: boolean;
  readonly fetchSite: string | readonly string[] | undefined;
  readonly origin: string | readonly string[] | undefined;
  readonly csrfField: unknown;
  readonly csrfHeader: string | readonly string[] | undefined;
  readonly csrf: 'verify' | 'skip';
  readonly ageMs: number;

  constructor(values: RequestValues) {
    this.method = values.method;
    this.cookieHeader = values.cookieHeader;
    this.secure = values.secure;
    this.fetchSite = values.fetchSite;
    this.origin = values.origin;
    // Only a body parsed before the middleware (urlencoded or JSON) can carry `_csrf`.
    this.csrfField = csrfFieldOf(values.body);
    this.csrfHeader = values.csrfHeader;
    this.csrf = values.csrf;
    this.ageMs = values.arrivedAt === undefined ? 0 : arrivalTime() - values.arrivedAt;
  }

  abstract get ip(): string | null;
  abstract get userAgent(): string | null;
}

/** The core's view of a request whose client IP and user agent are already plain values. */
export function createRequestContext(
  values: RequestValues & { readonly ip: string | null; readonly userAgent: string | null },
): RequestContext {
  return new PlainRequestContext(values);
}

class PlainRequestContext extends AdapterRequestContext {
  readonly #ip: string | null;
  readonly #userAgent: string | null;

  constructor(values: Parameters<typeof createRequestContext>[0]) {
    super(values);
    this.#ip = values.ip;
    this.#userAgent = values.userAgent;
  }

  get ip(): string | null {
    return this.#ip;
  }

  get userAgent(): string | null {
    return this.#userAgent;
  }
}
