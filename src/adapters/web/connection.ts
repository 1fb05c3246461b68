import { claimsHTTPS } from '../shared/transport.js';

/**
 * How a request reached the app, as the host that accepted the connection knows it: whether it
 * came over TLS, and from which address.
 */
export interface WebConnection {
  /** Whether the request reached the app over HTTPS. */
  readonly secure: boolean;
  /** The client's address; null or absent when the host does not say. */
  readonly ip?: string | null | undefined;
}

/**
 * Whether a request URL is an HTTPS one. The host built that URL from the connection it
 * accepted (Deno.serve, Bun.serve, `@hono/node-server` read the socket), so it is the one
 * statement about the transport that a client cannot make by sending a header.
 */
export function isHTTPSURL(url: string): boolean {
  return url.startsWith('https:');
}

/**
 * With `trustProxy`, the proxy's `X-Forwarded-Proto` (its first value, as Express reads it)
 * decides; without the header, the connection's own answer stands.
 */
export function forwardedSecure(headers: Headers, secure: boolean): boolean {
  const proto = headers.get('x-forwarded-proto');
  return proto === null ? secure : claimsHTTPS(proto);
}

/** With `trustProxy`, the leftmost `X-Forwarded-For` entry: the client as the proxy saw it. */
export function forwardedFor(headers: Headers): string | null {
  const value = headers.get('x-forwarded-for');
  if (value === null) return null;
  const first = value.split(',', 1)[0]?.trim() ?? '';
  return first === '' ? null : first;
}
