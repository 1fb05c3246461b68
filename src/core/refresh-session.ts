import type { CoreContext } from './context.js';
import type { SessionPayload } from './payload.js';
import {
  expiryReason,
  nextVersion,
  retiredGraceUntil,
  rotated,
  rotationAfterWrite,
  touched,
  type DueWrites,
} from './record.js';
import type { CookieSink, RequestContext } from './request.js';
import type { LiveResolution } from './resolve-token.js';
import type { StoredSession } from './store.js';
import { generateToken } from './token.js';

/** A record and its opened payload: what a request's `Session` starts from. */
export interface LoadedSession {
  readonly record: StoredSession;
  readonly payload: SessionPayload;
}

/**
 * The write a load owes: rotation (SM-20), touch (SM-21), first use of a token and re-sealing
 * under the active key, in one compare-and-set. Null when the session ended meanwhile.
 */
export async function refreshSession(
  core: CoreContext,
  request: RequestContext,
  sink: CookieSink,
  live: LiveResolution,
  { rotate }: DueWrites,
): Promise<LoadedSession | null> {
  const { session, opened, standing } = live;
  const now = core.now();
  const rules = core.config;
  const token = rotate ? generateToken(core.config.runtime) : live.token;
  const payload: SessionPayload = {
    ...opened.payload,
    ...rotationAfterWrite(session, opened.payload, standing, rotate),
  };
  const fields = rotate
    ? rotated(session, core.config.keyRing.tokenHash(token), now, rules)
    : touched(session, now, rules);
  const next = nextVersion(session, fields, core.sealer.seal(fields, payload));
  const retire = rotate
    ? { tokenHash: session.tokenHash, graceUntil: retiredGraceUntil(now, rules) }
    : null;
  if (await core.store.call('touch', (store) => store.update(next, { retire }))) {
    if (rotate) {
      core.cookies.issueSession(sink, request, token, next, {
        persistent: payload.persistent,
        now: core.now(),
      });
      core.events.emit('session.rotated', request, {
        sessionId: session.id,
        userId: session.userId,
      });
    }
    return { record: next, payload };
  }
  return concurrentWinner(core, session.id, now);
}

/**
 * A concurrent request of the same browser wrote first (and may have rotated): use its
 * version. Our token stays valid for the grace window; the winner sends the new cookie.
 */
async function concurrentWinner(
  core: CoreContext,
  sessionId: string,
  now: number,
): Promise<LoadedSession | null> {
  const fresh = await core.store.call('load', (store) => store.findById(sessionId));
  const opened = fresh === null ? null : core.sealer.open(fresh);
  if (fresh === null || opened === null || expiryReason(fresh, now) !== null) return null;
  return { record: fresh, payload: opened.payload };
}
