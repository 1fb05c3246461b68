/** Where a request's Set-Cookie headers go. Each call replaces the cookie of the same name. */
export interface CookieSink {
  setCookie(name: string, header: string): void;
}

/** What the core needs to know about the request; adapters fill it in. */
export interface RequestContext {
  /** The request method as received; anything but GET, HEAD and OPTIONS is CSRF-checked. */
  readonly method: string;
  /** The raw Cookie header(s). */
  readonly cookieHeader: string | readonly string[] | undefined;
  /** Whether the request reached the app over HTTPS (proxy headers only when trusted). */
  readonly secure: boolean;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The `Sec-Fetch-Site` header(s). */
  readonly fetchSite?: string | readonly string[] | undefined;
  /** The `Origin` header(s). */
  readonly origin?: string | readonly string[] | undefined;
  /** The `_csrf` field of the parsed body, whatever its type. */
  readonly csrfField?: unknown;
  /** The `X-CSRF-Token` header(s). */
  readonly csrfHeader?: string | readonly string[] | undefined;
  /** `skip` exempts this request from CSRF checks (webhooks authenticated otherwise). */
  readonly csrf?: 'verify' | 'skip';
  /**
   * How long ago the request arrived, in milliseconds, as early as the adapter can tell (before
   * a body parser ran): the rotation grace window is measured from the arrival, so a slow
   * upload started with the old token is not mistaken for theft (SM-20). A duration rather than
   * a time, so that it needs no clock shared with the manager's. Default 0.
   */
  readonly ageMs?: number;
}
