import type { Request } from 'express';
import type { Session } from 'strongroom';

/** Something the demo itself noticed (the library's own events come from `sessions.on`). */
export interface DemoEvent {
  readonly type: 'login.failed' | 'login.throttled' | 'account.created' | 'password.changed';
  readonly at: Date;
  readonly sessionId: string | null;
  readonly userId: string | null;
  readonly ip: string | null;
  readonly reason: string | null;
}

/** What a route knows beyond the request: the user concerned (if not the session's), why. */
export interface DemoEventFields {
  readonly userId?: string | null;
  readonly reason?: string;
}

/** Reports a demo event about `req`, filling in the time, the session and the client address. */
export type EmitDemoEvent = (
  req: Request,
  type: DemoEvent['type'],
  fields: DemoEventFields,
) => void;

export interface DemoEventSource {
  /** Receives the events; none are kept when absent. */
  readonly onEvent: ((event: DemoEvent) => void) | undefined;
  readonly now: () => Date;
  /** The request's session, once the visitor middleware has run. */
  readonly sessionOf: (req: Request) => Session | undefined;
}

/**
 * @example
 * ```ts
 * const emit = createDemoEventEmitter({ onEvent: console.log, now: () => new Date(), sessionOf });
 * emit(req, 'login.failed', { reason: 'credentials' });
 * ```
 */
export function createDemoEventEmitter(source: DemoEventSource): EmitDemoEvent {
  return (req, type, fields) => {
    const session = source.sessionOf(req);
    source.onEvent?.({
      type,
      at: source.now(),
      sessionId: session?.id ?? null,
      userId: fields.userId ?? session?.userId ?? null,
      ip: req.ip ?? null,
      reason: fields.reason ?? null,
    });
  };
}
