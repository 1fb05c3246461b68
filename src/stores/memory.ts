import type { MemoryStoreOptions } from './memory/options.js';
import { openMemoryStore } from './memory/store.js';
import type { SessionStore } from './shared/store-types.js';

export type { MemoryStoreOptions } from './memory/options.js';

/**
 * A session store held in this process's memory, for tests and local development.
 *
 * Sessions are lost when the process restarts and are not shared between processes, so a
 * logout handled by one instance is not seen by another: use the SQLite, Redis or PostgreSQL
 * store in production. Creating a memory store while `NODE_ENV` is `production` emits a
 * process warning (once per process).
 *
 * Expired sessions are dropped lazily, without a timer: by {@link SessionStore.purgeExpired},
 * when {@link SessionStore.listByUser} meets them, and first in line when room is needed for a
 * new session. Reads may return an expired session; the session manager checks deadlines
 * itself. The store keeps frozen copies of the records it is given and hands those out. An
 * insert whose session id or current token hash another session holds rejects with a
 * `StoreConflictError` (`ERR_STORE_CONFLICT`, 409) and changes nothing.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from 'strongroom/stores/memory';
 *
 * const store = createMemoryStore({ maxSessions: 1_000 });
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): SessionStore {
  return openMemoryStore(options);
}
