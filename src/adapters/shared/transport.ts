import type { CookieSink, RequestContext } from '../../core/request.js';

/**
 * Whether a proxy header says the client used HTTPS, read as Express reads it (the first
 * value). On a request the framework found insecure, that means it does not trust the proxy.
 */
export function claimsHTTPS(header: string | readonly string[] | undefined): boolean {
  return typeof header === 'string' && header.split(',', 1)[0]?.trim().toLowerCase() === 'https';
}

/** How the warnings name the framework and its proxy setting. */
export interface TransportAdvice {
  /** The framework, as the warning names it: `Express`. */
  readonly framework: string;
  /** How to make the framework see HTTPS behind a TLS-terminating proxy. */
  readonly trustProxy: string;
}

/** The `STRONGROOM_INSECURE_TRANSPORT` warning, given the request's `X-Forwarded-Proto`. */
export function insecureTransportWarning(
  advice: TransportAdvice,
  forwardedProto: string | readonly string[] | undefined,
): string {
  const proxy = claimsHTTPS(forwardedProto)
    ? ` This request carried "X-Forwarded-Proto: https", but ${advice.framework} does not trust the proxy that sent it.`
    : '';
  return (
    'Strongroom: a request arrived over plain HTTP while cookie.secure is "always": such visitors get no session cookie, and login() throws InsecureTransportError.' +
    `${proxy} Serve the app over HTTPS; behind a TLS-terminating proxy, ${advice.trustProxy}; for local development over http, set cookie.secure: "allow-http-development".`
  );
}

/**
 * A cookieless plain-HTTP visitor. An adapter cannot read the manager's configuration, so to
 * learn whether the manager issues cookies over HTTPS only it loads this visitor and asks for
 * a CSRF token, which needs a cookie: the cookie goes to {@link DISCARDING_SINK}, and no store
 * is touched.
 */
export const PLAIN_HTTP_PROBE: RequestContext = {
  method: 'GET',
  cookieHeader: undefined,
  secure: false,
  ip: null,
  userAgent: null,
};

/** Drops the probe's cookie: the probe must leave no trace. */
export const DISCARDING_SINK: CookieSink = { setCookie: () => undefined };
