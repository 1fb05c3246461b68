import type { SessionStore } from './shared/store-types.js';
import type { SQLiteStoreOptions } from './sqlite/options.js';
import { openSQLiteStore } from './sqlite/store.js';

export type { SQLiteStoreOptions } from './sqlite/options.js';

/**
 * A session store in a SQLite database through `better-sqlite3`: the embedded default, one
 * file shared by every process on the host.
 *
 * Each write is one transaction. Expired rows are removed by an incremental background sweep
 * (see `purgeIntervalSeconds`). Every method returns a promise that rejects on a database
 * error; none throws synchronously. An insert whose session id or token hash another session
 * holds rejects with a `StoreConflictError` (`ERR_STORE_CONFLICT`, 409) and changes nothing.
 * Invalid options throw a `ConfigError` listing every
 * problem, and so does a `path` that cannot serve as the database (a missing directory, no
 * write permission, a file that is not a database): its message names the file and the fix.
 *
 * @example
 * ```ts
 * import { createSQLiteStore } from 'strongroom/stores/sqlite';
 *
 * const store = createSQLiteStore({ path: '.data/sessions.db' });
 * // ... on shutdown:
 * await store.close();
 * ```
 */
export function createSQLiteStore(options: SQLiteStoreOptions): SessionStore {
  return openSQLiteStore(options);
}
