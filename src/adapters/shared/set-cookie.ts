/** A header value as Node and most frameworks hold it. */
export type HeaderValue = number | string | readonly string[] | undefined;

/** Whether a header name is `Set-Cookie`, in any case. */
export function isSetCookie(name: unknown): boolean {
  return typeof name === 'string' && name.toLowerCase() === 'set-cookie';
}

/** A header value as a list of strings: none, one, or each of an array. */
export function headerValues(value: HeaderValue): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/**
 * The app's cookies, minus any that use one of our names, then ours: one header per cookie of
 * ours, and a session cookie the app copied or forged never competes with the real one.
 * Cookies of the app's own sharing a name are all kept (they may differ in Path or Domain).
 */
export function mergeSetCookies(
  theirs: readonly string[],
  ours: ReadonlyMap<string, string>,
): string[] {
  const kept = theirs.filter((header) => !ours.has(cookieName(header)));
  return [...kept, ...ours.values()];
}

/** The name of a Set-Cookie header (RFC 6265 §5.2: up to the first `=`, trimmed). */
export function cookieName(header: string): string {
  const pair = header.split(';', 1)[0] ?? '';
  const eq = pair.indexOf('=');
  return (eq === -1 ? '' : pair.slice(0, eq)).trim();
}
