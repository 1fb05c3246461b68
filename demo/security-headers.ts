import type { RequestHandler } from 'express';

/**
 * SM-59 (ASVS 3.4.1): once a browser has seen the app over HTTPS it refuses plain http for a
 * year, on subdomains too, so a network attacker cannot downgrade it and read the cookie or
 * plant one. Browsers ignore the header over http (RFC 6797 §8.1), and sending it there would
 * claim something the transport does not prove, so it goes on HTTPS responses only.
 */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';

const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Headers every response of the demo carries: a strict CSP (no scripts at all), no MIME
 * sniffing, no framing (clickjacking), no cross-origin Referer, and HSTS over HTTPS.
 * `req.secure` is true only for a TLS socket or, with Express's `trust proxy` set, a trusted
 * proxy's `X-Forwarded-Proto: https`: an untrusted client cannot switch HSTS on or off.
 *
 * @example
 * ```ts
 * app.use(securityHeaders());
 * ```
 */
export function securityHeaders(): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'same-origin');
    if (req.secure) res.setHeader('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
    next();
  };
}
