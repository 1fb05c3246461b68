import type { ConfigProblem } from '../core/errors.js';

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

/**
 * Validates configured origins: each must already be in canonical form, so that what the
 * operator wrote is exactly what is compared (SM-43). `*`, `null`, wildcards, paths, queries,
 * fragments, trailing slashes and explicit default ports are refused.
 */
export function resolveOrigins(value: unknown, path: string, problems: ConfigProblem[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path, message: 'expected an array of origins such as "https://app.example"' });
    return [];
  }
  const origins: string[] = [];
  value.forEach((entry: unknown, index) => {
    const canonical = typeof entry === 'string' ? canonicalOrigin(entry) : null;
    if (canonical === null || canonical !== entry) {
      const hint = canonical === null ? '' : ` (did you mean "${canonical}"?)`;
      problems.push({
        path: `${path}[${index}]`,
        message: `expected an exact origin: scheme://host[:port], no path, slash or wildcard${hint}`,
      });
      return;
    }
    origins.push(canonical);
  });
  return origins;
}
