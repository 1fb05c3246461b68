import type { CSRFFailureReason } from '../csrf/reasons.js';
import type { RequestContext } from './request.js';

/** Why a session was revoked: by whom, or by which rule. */
export type RevocationReason =
  | 'admin'
  | 'user'
  | 'revoke-others'
  | 'logout-everywhere'
  | 'revoke-all'
  | 'session-limit'
  | 'client-changed'
  | 'credential-changed';

/** The store operation that failed, for `store.failed` (or the `currentCredential` callback). */
export type StoreOperation =
  | 'load'
  | 'expire'
  | 'touch'
  | 'update'
  | 'insert'
  | 'logout'
  | 'revoke'
  | 'list'
  | 'purge'
  | 'currentCredential';

/**
 * Every event type with the type of its `reason`: null where the type says it all, a fixed set
 * of short machine-readable strings otherwise.
 */
export interface SessionEventReasons {
  readonly 'session.created': null;
  readonly 'session.authenticated': null;
  readonly 'session.regenerated': null;
  readonly 'session.rotated': null;
  readonly 'session.expired': 'idle' | 'absolute';
  readonly 'session.logged_out': null;
  readonly 'session.revoked': RevocationReason;
  /** The configured `theftPolicy`: `revoke` ended the session, `log` only reports it. */
  readonly 'session.theft_detected': 'revoke' | 'log';
  readonly 'session.unknown_token': null;
  readonly 'session.malformed_token': null;
  /** How many values the cookie had, e.g. `3 values`. */
  readonly 'session.duplicate_cookie': `${number} values`;
  readonly 'session.tampered': null;
  readonly 'session.client_changed': 'user-agent';
  readonly 'session.limit_reached': 'refuse';
  readonly 'session.guessing': 'unknown-tokens';
  readonly 'store.failed': StoreOperation;
  readonly 'csrf.rejected': CSRFFailureReason;
}

/**
 * Lifecycle and security events (SM-54). They carry the public session id, never a token, a
 * CSRF token or session data, so they can go to any log sink as they are.
 */
export type SessionEventType = keyof SessionEventReasons;

/** The fields every event has; {@link SessionEvent} narrows `type` and `reason` together. */
export interface SessionEventBase<T extends SessionEventType = SessionEventType> {
  readonly type: T;
  readonly at: Date;
  /** The public session id, when the event concerns a known session. */
  readonly sessionId: string | null;
  readonly userId: string | null;
  /** Client address as the adapter determined it (trusted-proxy aware). */
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** A short machine-readable reason, e.g. `idle`, `absolute`, `logout-everywhere`. */
  readonly reason: SessionEventReasons[T];
  /** On login and regeneration, the session id that was replaced. */
  readonly previousSessionId: string | null;
  /**
   * On `csrf.rejected` by the Fetch-Metadata / Origin layer (`cross-site`, `same-site`,
   * `origin-mismatch`, `origin-null`): the `Origin` header as received, null when absent
   * (repeated headers joined by `, `, control characters replaced, at most 200 characters).
   * Chosen by the client: log it, never render it as HTML.
   */
  readonly origin?: string | null;
  /** With {@link origin}: the configured `csrf.origins`, then `csrf.trustedOrigins`. */
  readonly expectedOrigins?: readonly string[];
  /**
   * On `store.failed`: why the store call failed, in one line such as
   * `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432` (the cause's code and message, with
   * passwords in URLs and settings masked, long opaque strings elided, at most 300 characters).
   */
  readonly detail?: string;
}

/**
 * One event, discriminated on `type`: `if (event.type === 'session.expired')` narrows
 * `event.reason` to `'idle' | 'absolute'`.
 *
 * @example
 * ```ts
 * sessions.on('session.revoked', (event) => {
 *   if (event.reason === 'session-limit') metrics.increment('evicted');
 * });
 * ```
 */
export type SessionEvent = { [T in SessionEventType]: SessionEventBase<T> }[SessionEventType];

/** The event of one type. */
export type SessionEventOf<T extends SessionEventType> = Extract<SessionEvent, { type: T }>;

export type SessionEventListener<T extends SessionEventType = SessionEventType> = (
  event: SessionEventOf<T>,
) => void;

/** What an emitter is told; the time, the client's address and agent are filled in. */
export type EventFields<T extends SessionEventType> = {
  readonly sessionId?: string | null;
  readonly userId?: string | null;
  readonly previousSessionId?: string | null;
} & Pick<SessionEventBase<T>, 'origin' | 'expectedOrigins' | 'detail'> &
  (SessionEventReasons[T] extends null
    ? { readonly reason?: null }
    : { readonly reason: SessionEventReasons[T] });

type AnyListener = (event: SessionEvent) => void;

/** A minimal typed emitter. A listener that throws never breaks a request. */
export class EventHub {
  readonly #listeners = new Map<SessionEventType | '*', Set<AnyListener>>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  on<T extends SessionEventType>(type: T | '*', listener: SessionEventListener<T>): () => void {
    let set = this.#listeners.get(type);
    if (set === undefined) this.#listeners.set(type, (set = new Set()));
    const untyped = listener as AnyListener;
    set.add(untyped);
    return () => set.delete(untyped);
  }

  /** Emits an event about `request` (null for administrative calls), stamped now. */
  emit<T extends SessionEventType>(
    type: T,
    request: RequestContext | null,
    fields: EventFields<T>,
  ): void {
    if (!this.#listeners.has(type) && !this.#listeners.has('*')) return;
    const { sessionId, userId, reason, previousSessionId, ...extra } = fields;
    this.#dispatch({
      type,
      at: new Date(this.#now()),
      sessionId: sessionId ?? null,
      userId: userId ?? null,
      ip: request?.ip ?? null,
      userAgent: request?.userAgent ?? null,
      reason: reason ?? null,
      previousSessionId: previousSessionId ?? null,
      ...extra,
    } as SessionEvent);
  }

  #dispatch(event: SessionEvent): void {
    for (const key of [event.type, '*'] as const) {
      for (const listener of this.#listeners.get(key) ?? []) {
        try {
          listener(event);
        } catch (error) {
          process.emitWarning(
            `Strongroom event listener for ${event.type} threw: ${String(error)}`,
          );
        }
      }
    }
  }
}
