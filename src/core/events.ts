/**
 * Lifecycle and security events (SM-54). They carry the public session id, never a token, a
 * CSRF token or session data, so they can go to any log sink as they are.
 */
export type SessionEventType =
  | 'session.created'
  | 'session.authenticated'
  | 'session.regenerated'
  | 'session.rotated'
  | 'session.expired'
  | 'session.logged_out'
  | 'session.revoked'
  | 'session.theft_detected'
  | 'session.unknown_token'
  | 'session.malformed_token'
  | 'session.duplicate_cookie'
  | 'session.tampered'
  | 'session.client_changed'
  | 'session.limit_reached'
  | 'session.guessing'
  | 'store.failed'
  | 'csrf.rejected';

export interface SessionEvent {
  readonly type: SessionEventType;
  readonly at: Date;
  /** The public session id, when the event concerns a known session. */
  readonly sessionId: string | null;
  readonly userId: string | null;
  /** Client address as the adapter determined it (trusted-proxy aware). */
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** A short machine-readable reason, e.g. `idle`, `absolute`, `logout-everywhere`. */
  readonly reason: string | null;
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

export type SessionEventListener = (event: SessionEvent) => void;

/** A minimal typed emitter. A listener that throws never breaks a request. */
export class EventHub {
  readonly #listeners = new Map<SessionEventType | '*', Set<SessionEventListener>>();

  on(type: SessionEventType | '*', listener: SessionEventListener): () => void {
    let set = this.#listeners.get(type);
    if (set === undefined) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(event: SessionEvent): void {
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
