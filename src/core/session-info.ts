import { expiryReason } from './record.js';
import type { RequestContext } from './request.js';
import type { Sealer } from './sealing.js';
import type { StoredSession } from './store.js';

const MAX_USER_AGENT_LENGTH = 512;
const MAX_IP_LENGTH = 64;

/** One entry of a user's session list (SM-33). Public ids only, never tokens. */
export interface SessionInfo {
  readonly id: string;
  /** Whether this is the session of the request that asked. */
  readonly current: boolean;
  readonly createdAt: Date;
  readonly authenticatedAt: Date | null;
  readonly lastSeenAt: Date;
  readonly idleExpiresAt: Date;
  readonly absoluteExpiresAt: Date;
  readonly userAgent: string | null;
  readonly ip: string | null;
}

/** @internal Shared by `Session.listSessions` and `SessionManager.listUserSessions`. */
export function describeSessions(
  sealer: Sealer,
  sessions: readonly StoredSession[],
  now: number,
  currentId: string | null,
): SessionInfo[] {
  const infos: SessionInfo[] = [];
  for (const session of sessions) {
    const opened = sealer.open(session);
    if (opened === null || expiryReason(session, now) !== null) continue;
    infos.push({
      id: session.id,
      current: session.id === currentId,
      createdAt: new Date(session.createdAt),
      authenticatedAt: toDate(session.authenticatedAt),
      lastSeenAt: new Date(session.lastSeenAt),
      idleExpiresAt: new Date(session.idleExpiresAt),
      absoluteExpiresAt: new Date(session.absoluteExpiresAt),
      userAgent: opened.payload.userAgent,
      ip: opened.payload.ip,
    });
  }
  return infos.sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
}

/**
 * What the session list shows about a device. Bounded, because every record carries it and the
 * User-Agent header may be kilobytes long.
 */
export function clientMetadata(request: RequestContext): {
  ip: string | null;
  userAgent: string | null;
} {
  return {
    ip: request.ip?.slice(0, MAX_IP_LENGTH) ?? null,
    userAgent: request.userAgent?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
  };
}

export function toDate(value: number | null | undefined): Date | null {
  return value == null ? null : new Date(value);
}
