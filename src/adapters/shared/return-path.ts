/** Longer return paths are dropped rather than carried through a login form. */
const MAX_RETURN_PATH_LENGTH = 2048;

/**
 * Browsers drop tabs and newlines from URLs and read `\` as `/`, so `/\evil.example` and
 * `/\t/evil.example` both lead off-site; control characters have no business in a path either.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARACTERS = /[\u0000-\u0020\u007f\\]/;

/** Any origin that cannot exist: only whether a path stays on it matters. */
const PROBE_ORIGIN = 'http://return-path.invalid';

/**
 * `value` as a path on this site (`/account?tab=keys`), or null when it could lead anywhere
 * else: an absolute URL, a scheme-relative `//evil.example`, `/\evil.example`, a path with
 * control characters, whitespace or backslashes, or one longer than 2,048 characters. Use it
 * wherever a redirect target comes from the request, such as the `returnTo` parameter that
 * `auth.requireUser()` adds: an attacker can link to `/login?returnTo=https://evil.example`
 * directly, so the login route must check the value it redirects to (open redirect, CWE-601).
 *
 * The result is normalised (`.` and `..` resolved, unsafe characters percent-encoded).
 *
 * @example
 * ```ts
 * app.post('/login', async (req, res) => {
 *   // … check the password, then:
 *   await auth.session(req).login(user.id);
 *   res.redirect(303, safeReturnPath(req.query.returnTo) ?? '/account');
 * });
 * ```
 */
export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_PATH_LENGTH)
    return null;
  if (value[0] !== '/' || value[1] === '/' || UNSAFE_CHARACTERS.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, PROBE_ORIGIN);
  } catch {
    return null;
  }
  if (url.origin !== PROBE_ORIGIN) return null;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Normalising may lengthen the path (percent-encoding) or, for `/..//x`, make it start `//`.
  return path.startsWith('//') || path.length > MAX_RETURN_PATH_LENGTH ? null : path;
}
