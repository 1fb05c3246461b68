import type { Engine } from './engine.js';
import type { RequestContext } from './request.js';
import { StoreUnavailableError } from './errors.js';
import type { SessionPayload } from './payload.js';
import { clientMetadata } from './session-info.js';
import type { StoredSession } from './store.js';

/** Client binding (SM-58) and the credential check (SM-28); false ends the session. */
export async function passesBindings(
  engine: Engine,
  request: RequestContext,
  session: StoredSession,
  payload: SessionPayload,
): Promise<boolean> {
  const fields = { sessionId: session.id, userId: session.userId };
  if (
    engine.config.clientBinding !== 'off' &&
    clientMetadata(request).userAgent !== payload.userAgent
  ) {
    engine.emit('session.client_changed', request, { ...fields, reason: 'user-agent' });
    if (engine.config.clientBinding === 'strict') {
      await endSession(engine, request, session, 'client-changed');
      return false;
    }
  }
  if (engine.config.currentCredential === null || session.userId === null) return true;
  const userId = session.userId;
  const check = engine.config.currentCredential;
  let credential: string | null;
  try {
    credential = await check(userId);
  } catch (error) {
    engine.emit('store.failed', request, { ...fields, reason: 'currentCredential' });
    throw new StoreUnavailableError('currentCredential', { cause: error });
  }
  const matches =
    typeof credential === 'string' &&
    payload.credential !== null &&
    engine.config.keyRing.matchesCredential(payload.credential, userId, credential);
  if (!matches) await endSession(engine, request, session, 'credential-changed');
  return matches;
}

async function endSession(
  engine: Engine,
  request: RequestContext,
  session: StoredSession,
  reason: string,
): Promise<void> {
  await engine.call('revoke', (store) => store.delete(session.id));
  engine.emit('session.revoked', request, {
    sessionId: session.id,
    userId: session.userId,
    reason,
  });
}
