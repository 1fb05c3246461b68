/** `scheme://host[:port]` and nothing else: no path, query, fragment, userinfo or trailing slash. */
const SERIALISED_ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@*\s\\]+$/i;

/**
 * The canonical form of a serialised origin (lower-case host, default port dropped), or null
 * when the value is not exactly an origin. Used for request `Origin` headers: `https://app.test/`,
 * `https://app.test@evil.test` and `https://[` are not origins (SM-41, H-17).
 */
export function canonicalOrigin(value: string): string | null {
  if (!SERIALISED_ORIGIN.test(value)) return null;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return url.origin;
  } catch {
    return null;
  }
}
