import { serializeCookie, type CookieAttributes } from './cookie.js';
import { StoreUnavailableError, StrongroomError } from './errors.js';
import { summarizeError } from './error-summary.js';
import type { ResolvedConfig } from './config.js';
import type { EventHub, SessionEventType } from './events.js';
import { decodePayload, encodePayload, type SessionPayload } from './payload.js';
import type { SessionStore, StoredSession, TokenMatch } from './store.js';
import type { RequestContext } from './request.js';

export interface OpenedSession {
  readonly payload: SessionPayload;
  readonly sealedWithActiveKey: boolean;
}

interface EventFields {
  readonly sessionId?: string | null;
  readonly userId?: string | null;
  readonly reason?: string | null;
  readonly previousSessionId?: string | null;
}

/** A record without its ciphertext: what the associated data of the ciphertext binds. */
export type RecordFields = Omit<StoredSession, 'sealed' | 'version'>;

/** A token's store entry, and which of the ring's hashes of the token found it. */
export interface FoundToken {
  readonly match: TokenMatch;
  readonly tokenHash: string;
}

/** How many decrypted sessions an engine remembers (about 1 KB each for small sessions). */
const OPENED_CACHE_ENTRIES = 10_000;

/** Shared machinery of the manager and its per-request sessions. Internal. */
export class Engine {
  readonly config: ResolvedConfig;
  readonly events: EventHub;
  readonly #opened = new Map<
    string,
    { readonly record: StoredSession; readonly opened: OpenedSession }
  >();

  constructor(config: ResolvedConfig, events: EventHub) {
    this.config = config;
    this.events = events;
  }

  now(): number {
    return this.config.runtime.now();
  }

  /**
   * Runs a store operation; any failure becomes a StoreUnavailableError so the adapters fail
   * closed with 503 (SM-57) instead of treating the user as anonymous. The `store.failed` event
   * says which operation failed and why (`detail`: the cause's code and message, made log-safe),
   * so that an outage can be told from a bug without the error object.
   */
  async call<T>(operation: string, run: (store: SessionStore) => Promise<T>): Promise<T> {
    try {
      return await run(this.config.store);
    } catch (error) {
      if (error instanceof StrongroomError) throw error;
      this.events.emit({
        type: 'store.failed',
        at: new Date(this.now()),
        sessionId: null,
        userId: null,
        ip: null,
        userAgent: null,
        reason: operation,
        previousSessionId: null,
        detail: summarizeError(error),
      });
      throw new StoreUnavailableError(operation, { cause: error });
    }
  }

  emit(type: SessionEventType, request: RequestContext | null, fields: EventFields): void {
    this.events.emit({
      type,
      at: new Date(this.now()),
      sessionId: fields.sessionId ?? null,
      userId: fields.userId ?? null,
      ip: request?.ip ?? null,
      userAgent: request?.userAgent ?? null,
      reason: fields.reason ?? null,
      previousSessionId: fields.previousSessionId ?? null,
    });
  }

  /** Ends every session of `userId` but `except`, one `session.revoked` event each. */
  async revokeUser(
    userId: string,
    except: string | null,
    reason: string,
    request: RequestContext | null,
  ): Promise<number> {
    const ids = await this.call('revoke', (store) => store.deleteByUser(userId, { except }));
    for (const sessionId of ids)
      this.emit('session.revoked', request, { sessionId, userId, reason });
    return ids.length;
  }

  /** `__Host-` whenever the cookie is Secure (SM-07); the bare name only in http development. */
  cookieName(secure: boolean, suffix = ''): string {
    return `${secure ? '__Host-' : ''}${this.config.cookieName}${suffix}`;
  }

  csrfCookieName(secure: boolean): string {
    return this.cookieName(secure, '-csrf');
  }

  sessionCookie(
    request: RequestContext,
    token: string,
    session: StoredSession,
    persistent: boolean,
  ): string {
    // SM-10: "remember me" cookies never outlive the absolute deadline.
    const maxAge = persistent ? Math.floor((session.absoluteExpiresAt - this.now()) / 1000) : null;
    return serializeCookie(
      this.cookieName(request.secure),
      token,
      this.#attributes(request, maxAge),
    );
  }

  expiredCookie(request: RequestContext, name: string): string {
    return serializeCookie(name, '', this.#attributes(request, 0));
  }

  browserSessionCookie(request: RequestContext, name: string, value: string): string {
    return serializeCookie(name, value, this.#attributes(request, null));
  }

  tokenHash(token: string): string {
    return this.config.keyRing.tokenHash(token);
  }

  /** Seals the payload, binding every field of the record to it (SM-51). */
  seal(record: RecordFields, payload: SessionPayload): string {
    return this.config.keyRing.seal(encodePayload(payload), boundFields(record));
  }

  /**
   * Null when the record does not authenticate or decode (tampered, swapped, corrupt, or a
   * field changed in the store), or when its deadlines reach further than the configuration
   * allows. Authenticated decryptions are remembered per session id, ciphertext and bound
   * fields, so a read-heavy session is decrypted once per write rather than once per request;
   * anything else misses and is decrypted and checked afresh.
   */
  open(session: StoredSession): OpenedSession | null {
    if (!this.#withinConfiguredDeadlines(session)) return null;
    const cached = this.#opened.get(session.id);
    if (cached !== undefined && sameSealedRecord(cached.record, session)) return cached.opened;
    const decrypted = this.config.keyRing.open(session.sealed, boundFields(session));
    const payload = decrypted === null ? null : decodePayload(decrypted.plaintext);
    if (decrypted === null || payload === null) return null;
    const opened = { payload, sealedWithActiveKey: decrypted.sealedWithActiveKey };
    if (this.#opened.size >= OPENED_CACHE_ENTRIES) {
      // Oldest first: Map iteration follows insertion order.
      this.#opened.delete(this.#opened.keys().next().value as string);
    }
    this.#opened.set(session.id, { record: session, opened });
    return opened;
  }

  /**
   * A record may not outlive the configured timeouts: a deadline past them was written by
   * someone other than this library, or under a longer configuration that no longer applies.
   */
  #withinConfiguredDeadlines(session: StoredSession): boolean {
    return (
      session.absoluteExpiresAt - session.createdAt <= this.config.absoluteTimeoutMs &&
      session.idleExpiresAt - session.lastSeenAt <= this.config.idleTimeoutMs
    );
  }

  /** Which deadline has passed, if any. */
  expiryReason(session: StoredSession, now: number): 'idle' | 'absolute' | null {
    if (now >= session.absoluteExpiresAt) return 'absolute';
    if (now >= session.idleExpiresAt) return 'idle';
    return null;
  }

  /** The idle deadline after activity at `now`, never past the absolute one (SM-23). */
  idleDeadline(session: Pick<StoredSession, 'absoluteExpiresAt'>, now: number): number {
    return Math.min(now + this.config.idleTimeoutMs, session.absoluteExpiresAt);
  }

  #attributes(request: RequestContext, maxAgeSeconds: number | null): CookieAttributes {
    return { secure: request.secure, sameSite: this.config.sameSite, maxAgeSeconds };
  }
}

/** Whether two records carry the same ciphertext and the same fields bound to it. */
function sameSealedRecord(a: StoredSession, b: StoredSession): boolean {
  return (
    a.sealed === b.sealed &&
    a.tokenHash === b.tokenHash &&
    a.userId === b.userId &&
    a.createdAt === b.createdAt &&
    a.authenticatedAt === b.authenticatedAt &&
    a.lastSeenAt === b.lastSeenAt &&
    a.idleExpiresAt === b.idleExpiresAt &&
    a.absoluteExpiresAt === b.absoluteExpiresAt &&
    a.rotatedAt === b.rotatedAt
  );
}

/**
 * The associated data of a record's ciphertext: every field but the version (a counter for
 * compare-and-set) and the ciphertext itself. Changing any of them in the store, such as the
 * user id, a deadline or the token hash, makes the record fail to open (SM-51). Versioned so
 * that the scheme can change; JSON so that no value can run into the next.
 */
export function boundFields(record: RecordFields): string {
  return JSON.stringify([
    2,
    record.id,
    record.tokenHash,
    record.userId,
    record.createdAt,
    record.authenticatedAt,
    record.lastSeenAt,
    record.idleExpiresAt,
    record.absoluteExpiresAt,
    record.rotatedAt,
  ]);
}
