/**
 * The `_csrf` field of a body parsed before the session middleware ran (urlencoded or JSON),
 * whatever its type; undefined when there is none. Only an own property counts, so a body
 * parsed into an object with a polluted prototype cannot supply one.
 */
export function csrfFieldOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null && Object.hasOwn(body, '_csrf')
    ? (body as Record<string, unknown>)._csrf
    : undefined;
}

/**
 * The CSRF mode of a request by its path, for `csrfExemptPaths`: `skip` for a listed path,
 * `verify` for any other. Each path is compared exactly and case-sensitively with the path the
 * client asked for ({@link requestPathOf}): nothing is decoded or normalised, and there are no
 * prefixes or patterns, so `/hooks/x/../payment` or `/hooks/%70ayment` is not `/hooks/payment`.
 */
export function createCSRFExemptions(
  paths: readonly string[] | undefined,
): (path: string) => 'verify' | 'skip' {
  const exempt = new Set(paths ?? []);
  return (path) => (exempt.has(path) ? 'skip' : 'verify');
}

/**
 * The path of a request target exactly as sent, without its query. Use the full target the
 * client sent (mount prefixes included): a path relative to a router would let
 * `/admin/hooks/payment` pass as `/hooks/payment`. An absolute-form target
 * (`http://host/hooks/payment`) keeps its scheme and host, so it is never exempt.
 */
export function requestPathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}
