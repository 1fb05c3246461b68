import { InvalidArgumentError } from './errors.js';

/** RFC 6265bis §4.1.1 cookie-name: a token (no CTLs, separators, spaces). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** We only ever emit base64url values (SM-11), or an empty value to delete. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]*$/;

/**
 * The distinct values sent under each of `names`, across all Cookie headers (6265bis §4.2.1
 * asks servers to tolerate several). Names match exactly and case-sensitively, and values are
 * taken verbatim, never URL-decoded, trimmed or JSON-parsed: `__host-sid`, `__Host-sid `,
 * `%2F`-encoded or `j:`-prefixed look-alikes are not the session cookie (SM-13, SM-14).
 */
export function readCookies(
  header: string | readonly string[] | undefined,
  names: readonly string[],
): Map<string, string[]> {
  const found = new Map<string, string[]>(names.map((name) => [name, []]));
  if (header === undefined) return found;
  for (const line of typeof header === 'string' ? [header] : header) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      // Only the separator's own space is stripped: `sid =V` or `sid=V ` are different cookies.
      const values = found.get(pair.slice(0, eq).replace(/^[ \t]+/, ''));
      const value = pair.slice(eq + 1);
      if (values !== undefined && !values.includes(value)) values.push(value);
    }
  }
  return found;
}

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface CookieAttributes {
  readonly secure: boolean;
  readonly sameSite: SameSite;
  /** Null for a browser-session cookie (SM-10). */
  readonly maxAgeSeconds: number | null;
}

/**
 * A `Set-Cookie` value for the session cookie: always HttpOnly, Path=/ and no Domain, so that a
 * `__Host-` name is valid (SM-07, SM-08). Throws on anything outside the grammar rather than
 * emit an injectable header (SM-12, CVE-2024-47764).
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  if (!COOKIE_NAME.test(name))
    throw new InvalidArgumentError('Cookie name is not a valid RFC 6265 token');
  if (!COOKIE_VALUE.test(value)) throw new InvalidArgumentError('Cookie value must be base64url');
  let cookie = `${name}=${value}; Path=/; HttpOnly; SameSite=${attributes.sameSite}`;
  if (attributes.secure) cookie += '; Secure';
  if (attributes.maxAgeSeconds !== null) {
    const maxAge = Math.max(0, Math.floor(attributes.maxAgeSeconds));
    cookie += `; Max-Age=${maxAge}`;
    if (maxAge === 0) cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  }
  return cookie;
}

export function isValidCookieName(name: string): boolean {
  return COOKIE_NAME.test(name);
}
