import type { PostgresStoreOptions } from './postgres/options.js';
import { openPostgresStore } from './postgres/store.js';
import type { PostgresStore } from './postgres/store.js';

export type { PostgresStoreOptions } from './postgres/options.js';
export type { PostgresStore } from './postgres/store.js';

/**
 * A session store in PostgreSQL through `pg` (node-postgres): for deployments that already run
 * PostgreSQL and want sessions in it, shared by every instance of the app.
 *
 * The tables are created on first use, or by {@link PostgresStore.ready}: idempotently, and
 * safely when several instances start at once (an advisory lock serialises them), with the
 * schema version recorded in `<prefix>schema_version` so that later releases can migrate it.
 *
 * Every operation is one SQL statement, and so one network round trip, atomic on its own:
 * `findByTokenHash` (the authenticated-read hot path) reads the current and the retired token in
 * one `UNION ALL`; `update` compares-and-sets the version and retires the old token in one
 * statement; each `deleteAll` call is one statement too. Retired tokens reference their session
 * with `ON DELETE CASCADE`, so deleting a session takes them along. Statements are named prepared
 * statements, parsed once per connection.
 *
 * `insert` and `deleteByUser` call PL/pgSQL functions (schema version 2) that first take a
 * transaction-scoped advisory lock on the user id, so that they are atomic with respect to each
 * other under READ COMMITTED: parallel logins never take a user past the session limit (SM-34),
 * a replacement happens only while the replaced session is still at the version the caller read
 * (a logged-out or revoked session never comes back, SM-31), and once `deleteByUser` resolves no
 * session of the user it saw, nor a replacement of one, is left. Logins of one user wait for one
 * another, for well under a millisecond each; different users never do (unless their ids
 * collide under `hashtext`). `deleteAll` skips rows a concurrent write holds and waits for one
 * only when it could delete nothing else, so it never deadlocks with a login or a revocation.
 * Transactions must run at READ COMMITTED (the default) or SERIALIZABLE; the functions refuse
 * REPEATABLE READ, under which their snapshot would predate the lock. The locks are two-key
 * advisory locks whose first key is 21333 (`0x5355`): an application that takes advisory locks
 * of its own should keep clear of that key.
 *
 * Every method returns a promise that rejects on a database error; none throws synchronously.
 * An insert whose session id or token hash another session holds rejects with a
 * `StoreConflictError` (`ERR_STORE_CONFLICT`, 409) and changes nothing. Invalid options throw a
 * `ConfigError` listing every problem. A connection error (refused, reset, timed out,
 * authentication, database shut down) is reported once per outage as a process warning
 * (`STRONGROOM_POSTGRES_CONNECTION`) that gives the cause's code and message, never the
 * connection string's password, and never crashes the process.
 *
 * @example
 * ```ts
 * import { createPostgresStore } from 'strongroom/stores/postgres';
 *
 * const store = createPostgresStore({ connectionString: process.env.DATABASE_URL! });
 * await store.ready(); // optional: fail fast at start-up
 * // ... on shutdown:
 * await store.close();
 * ```
 *
 * @example
 * ```ts
 * // Sharing the application's pool (the store leaves it open on close):
 * import pg from 'pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5_000 });
 * const store = createPostgresStore({ pool, schema: 'auth', purgeIntervalSeconds: 300 });
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  return openPostgresStore(options);
}
