import { isOriginReason, type CSRFFailureReason } from '../csrf/reasons.js';
import {
  checkOrigin,
  describeOriginHeader,
  isUnsafeMethod,
  pickToken,
  type OriginPolicy,
} from '../csrf/request-check.js';
import { isWellFormedCSRFToken, verifyCSRFToken } from '../csrf/synchronizer-token.js';
import { CSRFError } from './errors.js';
import type { EventHub } from './events.js';
import type { RequestContext } from './request.js';
import type { StoredSession } from './store.js';

/** Which origins a request may come from, and whether unsafe requests are checked at all. */
export type CSRFPolicy = { readonly enforce: boolean } & OriginPolicy;

/** Distinct origins reported in a process warning, at most (see {@link CSRFGuard}). */
const MAX_ORIGIN_WARNINGS = 5;

/**
 * Both layers of the CSRF defence, each checked here and nowhere else (DESIGN §CSRF): layer 1,
 * Fetch Metadata and Origin, before the store is touched; layer 2, the synchronizer token,
 * before any write (SM-36 to SM-45). A rejection emits `csrf.rejected` and throws a
 * {@link CSRFError}, whose message (and so the response body) says only the reason.
 */
export class CSRFGuard {
  readonly #policy: CSRFPolicy;
  readonly #events: EventHub;
  readonly #warnedOrigins = new Set<string | null>();

  constructor(policy: CSRFPolicy, events: EventHub) {
    this.#policy = policy;
    this.#events = events;
  }

  /** Whether this request's tokens are checked: an unsafe method, not exempted, enforcing. */
  applies(request: RequestContext): boolean {
    return this.#policy.enforce && request.csrf !== 'skip' && isUnsafeMethod(request.method);
  }

  /** Layer 1: needs no session, so it runs before anything is looked up. */
  checkOrigin(request: RequestContext): void {
    const reason = checkOrigin(
      { secFetchSite: request.fetchSite, origin: request.origin },
      this.#policy,
    );
    if (reason !== null) throw this.#reject(request, reason, null);
  }

  /**
   * Layer 2: the synchronizer token, against the session's CSRF secret (or the pre-session
   * one); null when the request has no secret to check against, which fails (SM-36, SM-39).
   */
  checkToken(request: RequestContext, secret: string | null, session: StoredSession | null): void {
    const picked = pickToken({ field: request.csrfField, header: request.csrfHeader });
    if ('reason' in picked) throw this.#reject(request, picked.reason, session);
    if (secret === null || !verifyCSRFToken(picked.token, secret)) {
      const reason = isWellFormedCSRFToken(picked.token) ? 'token-invalid' : 'token-malformed';
      throw this.#reject(request, reason, session);
    }
  }

  /**
   * Layer 2 for apps that check by hand (`csrf.protection: 'off'`): the same verification,
   * reported the same way, as a boolean instead of an exception.
   */
  verifyManually(
    request: RequestContext,
    token: unknown,
    secret: string | null,
    session: Pick<StoredSession, 'id' | 'userId'> | null,
  ): boolean {
    if (secret !== null && verifyCSRFToken(token, secret)) return true;
    this.#report(request, 'token-invalid', session);
    return false;
  }

  #reject(
    request: RequestContext,
    reason: CSRFFailureReason,
    session: Pick<StoredSession, 'id' | 'userId'> | null,
  ): CSRFError {
    this.#report(request, reason, session);
    return new CSRFError(reason);
  }

  /**
   * A layer-1 rejection also puts the received and the configured origins into the event, and
   * an `origin-mismatch` into a process warning, since a missing or mistyped entry in
   * `csrf.origins` is the usual cause.
   */
  #report(
    request: RequestContext,
    reason: CSRFFailureReason,
    session: Pick<StoredSession, 'id' | 'userId'> | null,
  ): void {
    const fields = { sessionId: session?.id ?? null, userId: session?.userId ?? null, reason };
    if (!isOriginReason(reason)) {
      this.#events.emit('csrf.rejected', request, fields);
      return;
    }
    const origin = describeOriginHeader(request.origin);
    const expectedOrigins = [...this.#policy.selfOrigins, ...this.#policy.trustedOrigins];
    this.#events.emit('csrf.rejected', request, { ...fields, origin, expectedOrigins });
    if (reason === 'origin-mismatch') this.#warnOriginMismatch(origin);
  }

  /**
   * Once per distinct Origin, for the first few: enough to show a misconfiguration, bounded so
   * that a client sending made-up origins can neither flood the log nor grow this set.
   */
  #warnOriginMismatch(origin: string | null): void {
    const warned = this.#warnedOrigins;
    if (warned.has(origin) || warned.size >= MAX_ORIGIN_WARNINGS) return;
    warned.add(origin);
    const list = (origins: ReadonlySet<string>): string => JSON.stringify([...origins]);
    const more =
      warned.size < MAX_ORIGIN_WARNINGS
        ? 'This origin is not reported here again'
        : 'No further origins are reported here';
    process.emitWarning(
      `Strongroom refused an unsafe request (origin-mismatch): Origin ${JSON.stringify(origin)} is in neither csrf.origins ${list(this.#policy.selfOrigins)} nor csrf.trustedOrigins ${list(this.#policy.trustedOrigins)}. If it is the app's own address, list it exactly as the browser sends it (scheme://host[:port]). ${more}; every rejection emits csrf.rejected.`,
    );
  }
}
