import type { CoreContext } from './context.js';
import type { RevocationReason } from './events.js';
import type { SessionPayload } from './payload.js';
import type { RequestContext } from './request.js';
import { clientMetadata } from './session-info.js';
import type { StoredSession } from './store.js';

/** Client binding (SM-58) and the credential check (SM-28); false ends the session. */
export async function passesBindings(
  core: CoreContext,
  request: RequestContext,
  session: StoredSession,
  payload: SessionPayload,
): Promise<boolean> {
  const { clientBinding, currentCredential, keyRing } = core.config;
  const fields = { sessionId: session.id, userId: session.userId };
  if (clientBinding !== 'off' && clientMetadata(request).userAgent !== payload.userAgent) {
    core.events.emit('session.client_changed', request, { ...fields, reason: 'user-agent' });
    if (clientBinding === 'strict') {
      await endSession(core, request, session, 'client-changed');
      return false;
    }
  }
  if (currentCredential === null || session.userId === null) return true;
  const userId = session.userId;
  let credential: string | null;
  try {
    credential = await currentCredential(userId);
  } catch (error) {
    throw core.store.failure('currentCredential', error, request, fields);
  }
  const matches =
    typeof credential === 'string' &&
    payload.credential !== null &&
    keyRing.matchesCredential(payload.credential, userId, credential);
  if (!matches) await endSession(core, request, session, 'credential-changed');
  return matches;
}

async function endSession(
  core: CoreContext,
  request: RequestContext,
  session: StoredSession,
  reason: RevocationReason,
): Promise<void> {
  await core.store.call('revoke', (store) => store.delete(session.id));
  core.events.emit('session.revoked', request, {
    sessionId: session.id,
    userId: session.userId,
    reason,
  });
}
