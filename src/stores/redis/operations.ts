import type { SessionStore, StoredSession } from '../../core/store.js';
import type { Connection } from './connection.js';
import type { Keys } from './keys.js';
import { decodeRecord } from './record.js';

/**
 * What a topology (standalone.ts, cluster.ts) implements: the store contract but what both
 * topologies do the same way, which lives in the entry point: `findById` (one GET of a record,
 * which is in one slot), `purgeExpired` (Redis expires keys itself) and `close`.
 */
export type Operations = Omit<SessionStore, 'findById' | 'purgeExpired' | 'close'>;

/** What a topology's operations work with: the connection and the store's key names. */
export interface Context extends Pick<Connection, 'client' | 'evaluate' | 'evaluateBuffer'> {
  readonly keys: Keys;
}

/** Reads a session record by id: one GET, on either topology. */
export async function findById(context: Context, id: string): Promise<StoredSession | null> {
  const record = await context.client.getBuffer(context.keys.session(id));
  return record === null ? null : decodeRecord(id, record);
}
