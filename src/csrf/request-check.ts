import type { CSRFFailureReason } from './reasons.js';
import { canonicalOrigin } from './origin.js';

/** Methods that must not change state and are therefore not checked (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

export interface OriginPolicy {
  /** The app's own origins, canonical. Never derived from `Host` (SM-44). */
  readonly selfOrigins: ReadonlySet<string>;
  /**
   * Other origins allowed to send unsafe requests (a separate front end, a sibling subdomain):
   * the only way a `cross-site` or `same-site` request passes layer 1.
   */
  readonly trustedOrigins: ReadonlySet<string>;
}

/** The request headers layer 1 looks at, as received (a header may repeat). */
export interface OriginHeaders {
  readonly secFetchSite: string | readonly string[] | undefined;
  readonly origin: string | readonly string[] | undefined;
}

const FETCH_SITES = new Set(['cross-site', 'same-site', 'same-origin', 'none']);

/**
 * Layer 1: Fetch Metadata, then Origin (SM-40, SM-41). Returns the failure reason or null. A
 * missing Origin is not a failure here: the synchronizer token (layer 2) is then required
 * anyway (SM-42).
 *
 * Divergences chosen: `same-site` is rejected unless its Origin is trusted (Go and Spring deny,
 * Rails allows: a compromised sibling subdomain must not be able to act for the user);
 * `none` passes to the token layer (Go and Spring allow it); an unknown or list-valued
 * `Sec-Fetch-Site` counts as absent (Fetch Metadata §2.3), so Origin decides.
 */
export function checkOrigin(
  headers: OriginHeaders,
  policy: OriginPolicy,
): CSRFFailureReason | null {
  const site = singleValue(headers.secFetchSite)?.trim().toLowerCase();
  const fetchSite = site !== undefined && FETCH_SITES.has(site) ? site : null;
  const originHeader = headers.origin;
  if (Array.isArray(originHeader) && originHeader.length > 1) return 'origin-mismatch';
  const origin = singleValue(originHeader);
  const canonical = origin === undefined ? null : canonicalOrigin(origin);
  const trusted = canonical !== null && policy.trustedOrigins.has(canonical);

  if (fetchSite === 'cross-site') return trusted ? null : 'cross-site';
  if (fetchSite === 'same-site') return trusted ? null : 'same-site';
  if (origin === undefined) return null;
  if (origin === 'null') return 'origin-null';
  if (canonical !== null && (policy.selfOrigins.has(canonical) || trusted)) return null;
  return 'origin-mismatch';
}

/** The token candidates of a request: the `_csrf` form field and the `X-CSRF-Token` header. */
export interface TokenSources {
  /** The parsed body field, whatever its type (a repeated field arrives as an array). */
  readonly field: unknown;
  readonly header: string | readonly string[] | undefined;
}

/**
 * Picks the one token a request offers, or the reason it offers none usable (SM-39): a
 * repeated or non-string field, a repeated header, or a field and header that disagree.
 */
export function pickToken(
  sources: TokenSources,
): { token: string } | { reason: CSRFFailureReason } {
  const { field, header } = sources;
  if (field !== undefined && typeof field !== 'string') return { reason: 'token-malformed' };
  if (header !== undefined && typeof header !== 'string') return { reason: 'token-malformed' };
  if (field !== undefined && header !== undefined && field !== header)
    return { reason: 'token-ambiguous' };
  const token = field ?? header;
  if (token === undefined || token === '') return { reason: 'token-missing' };
  return { token };
}

const MAX_DESCRIBED_ORIGIN = 200;

/**
 * The `Origin` header(s) as received, for logs and events: null when absent, repeated headers
 * joined by `, `, control characters replaced with `?`, at most 200 characters. Never for a
 * response body: the value is chosen by the client.
 */
export function describeOriginHeader(value: string | readonly string[] | undefined): string | null {
  if (value === undefined) return null;
  const joined = typeof value === 'string' ? value : value.join(', ');
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  const printable = joined.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return printable.length > MAX_DESCRIBED_ORIGIN
    ? `${printable.slice(0, MAX_DESCRIBED_ORIGIN - 1)}…`
    : printable;
}

function singleValue(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 1 ? value[0] : undefined;
}
