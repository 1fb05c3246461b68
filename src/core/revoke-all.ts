import type { Engine } from './engine.js';
import type { DeleteAllOptions, DeleteAllResult } from './store.js';

/** SM-30: passes over the whole store until one ends nothing created before the call. */
export async function revokeAllSessions(
  engine: Engine,
  { batchSize = 500 }: { readonly batchSize?: number } = {},
): Promise<number> {
  const createdBefore = engine.now() + 1;
  let total = 0;
  for (;;) {
    let endedInPass = 0;
    let cursor: string | null = null;
    do {
      const options: DeleteAllOptions = { createdBefore, limit: batchSize, cursor };
      const result: DeleteAllResult = await engine.call('revoke', (store) =>
        store.deleteAll(options),
      );
      for (const sessionId of result.deleted)
        engine.emit('session.revoked', null, { sessionId, reason: 'revoke-all' });
      endedInPass += result.deleted.length;
      cursor = result.cursor;
    } while (cursor !== null);
    total += endedInPass;
    if (endedInPass === 0) return total;
  }
}
