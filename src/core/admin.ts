import type { CoreContext } from './context.js';
import type { RevocationReason } from './events.js';
import type { DeleteAllOptions, DeleteAllResult } from './store.js';
import type { RequestContext } from './request.js';
import { describeSessions, type SessionInfo } from './session-info.js';
import { isWellFormedSessionId } from './token.js';

/** Operations on sessions other than the request's own: by user, by id, in bulk. */

/** Ends every session of `userId` but `except`, one `session.revoked` event each. */
export async function revokeUserSessions(
  core: CoreContext,
  userId: string,
  options: {
    readonly except: string | null;
    readonly reason: RevocationReason;
    readonly request: RequestContext | null;
  },
): Promise<number> {
  const { except, reason, request } = options;
  const ids = await core.store.call('revoke', (store) => store.deleteByUser(userId, { except }));
  for (const sessionId of ids)
    core.events.emit('session.revoked', request, { sessionId, userId, reason });
  return ids.length;
}

/** Ends one session by its public id; false for a malformed or unknown id. */
export async function revokeSessionById(core: CoreContext, sessionId: string): Promise<boolean> {
  if (!isWellFormedSessionId(sessionId)) return false;
  const deleted = await core.store.call('revoke', (store) => store.delete(sessionId));
  if (deleted) core.events.emit('session.revoked', null, { sessionId, reason: 'admin' });
  return deleted;
}

/** A user's live sessions, most recently used first, `current` marking `currentId`. */
export async function listUserSessions(
  core: CoreContext,
  userId: string,
  currentId: string | null,
): Promise<SessionInfo[]> {
  const now = core.now();
  const sessions = await core.store.call('list', (store) => store.listByUser(userId, now));
  return describeSessions(core.sealer, sessions, now, currentId);
}

/** Deletes expired sessions in bounded batches until a batch comes back short. */
export async function purgeExpiredSessions(core: CoreContext, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const now = core.now();
    const purged = await core.store.call('purge', (store) => store.purgeExpired(now, batchSize));
    total += purged;
    if (purged < batchSize) return total;
  }
}

/** SM-30: passes over the whole store until one ends nothing created before the call. */
export async function revokeAllSessions(
  core: CoreContext,
  { batchSize = 500 }: { readonly batchSize?: number } = {},
): Promise<number> {
  const createdBefore = core.now() + 1;
  let total = 0;
  for (;;) {
    let endedInPass = 0;
    let cursor: string | null = null;
    do {
      const options: DeleteAllOptions = { createdBefore, limit: batchSize, cursor };
      const result: DeleteAllResult = await core.store.call('revoke', (store) =>
        store.deleteAll(options),
      );
      for (const sessionId of result.deleted)
        core.events.emit('session.revoked', null, { sessionId, reason: 'revoke-all' });
      endedInPass += result.deleted.length;
      cursor = result.cursor;
    } while (cursor !== null);
    total += endedInPass;
    if (endedInPass === 0) return total;
  }
}
