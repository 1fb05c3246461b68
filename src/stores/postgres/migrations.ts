import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import { quoteIdentifier as quote } from '../shared/identifiers.js';
import type { Integer } from '../shared/rows.js';
import {
  deleteAllSessionsFunction,
  deleteUserSessionsFunction,
  insertSessionFunction,
} from './functions.js';
import type { TableNames } from './names.js';
import { toInteger } from './rows.js';

/** Above PostgreSQL's 5-second statement timeout, so that the server's cancellation normally wins. */
export const QUERY_TIMEOUT_MS = 6_000;
/** First key of the two-key advisory lock that serialises schema migrations ("SR" in ASCII). */
const MIGRATION_LOCK_CLASS = 0x5352;

/**
 * The schema, one entry per version. Never edit a released entry: append one that alters what
 * came before. Each runs inside the migration transaction, under the advisory lock.
 */
const MIGRATIONS: readonly ((tables: TableNames) => string)[] = [
  ({ sessions, retired, prefix }) => `
    CREATE TABLE IF NOT EXISTS ${sessions} (
      id text PRIMARY KEY,
      token_hash text NOT NULL UNIQUE,
      user_id text,
      created_at bigint NOT NULL,
      authenticated_at bigint,
      last_seen_at bigint NOT NULL,
      idle_expires_at bigint NOT NULL,
      absolute_expires_at bigint NOT NULL,
      rotated_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      version integer NOT NULL,
      sealed text NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${quote(`${prefix}sessions_user_id`)}
      ON ${sessions} (user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${quote(`${prefix}sessions_expires_at`)} ON ${sessions} (expires_at);
    CREATE TABLE IF NOT EXISTS ${retired} (
      token_hash text PRIMARY KEY,
      session_id text NOT NULL REFERENCES ${sessions} (id) ON DELETE CASCADE,
      grace_until bigint NOT NULL,
      expires_at bigint NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${quote(`${prefix}retired_tokens_session_id`)}
      ON ${retired} (session_id);
    CREATE INDEX IF NOT EXISTS ${quote(`${prefix}retired_tokens_expires_at`)}
      ON ${retired} (expires_at);
  `,
  // Version 2: the steps that must be atomic across several statements (the session limit,
  // SM-34; replacement only of the version read, SM-31; revocation that no concurrent
  // replacement survives) move into PL/pgSQL functions, still one round trip each.
  (tables) => `
    ${insertSessionFunction(tables)}
    ${deleteUserSessionsFunction(tables)}
    ${deleteAllSessionsFunction(tables)}
  `,
];

/**
 * Creates or migrates the tables in one transaction, under a transaction-scoped advisory lock
 * keyed by the schema: a second instance starting at the same moment waits, then finds the
 * schema at the latest version and does nothing.
 */
export async function migrate(pool: Pool, tables: TableNames): Promise<void> {
  const client: PoolClient = await pool.connect();
  // A checked-out client has no pool listener: without this one, a connection lost mid-migration
  // would emit an unhandled 'error'. The failing query rejects anyway.
  const ignore = (): void => {};
  client.on('error', ignore);
  // Without values, pg uses the simple protocol, which runs a multi-statement migration.
  const run = (text: string, values?: unknown[]): Promise<QueryResult> =>
    client.query({
      text,
      ...(values === undefined ? {} : { values }),
      query_timeout: QUERY_TIMEOUT_MS,
    } as QueryConfig);
  let failure: unknown;
  try {
    await run('BEGIN');
    await run('SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))', [
      MIGRATION_LOCK_CLASS,
      tables.schema,
    ]);
    // CREATE SCHEMA IF NOT EXISTS checks the CREATE privilege even when the schema exists.
    const schemaExists = await run('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
      tables.schema,
    ]);
    if (schemaExists.rowCount === 0) {
      await run(`CREATE SCHEMA IF NOT EXISTS ${quote(tables.schema)}`);
    }
    await run(
      `CREATE TABLE IF NOT EXISTS ${tables.versions} (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await run(
      `SELECT coalesce(max(version), 0)::integer AS version FROM ${tables.versions}`,
    );
    const current = toInteger((rows[0] as { version: Integer } | undefined)?.version ?? 0);
    if (current > MIGRATIONS.length) {
      throw new Error(
        `The Strongroom tables ${tables.schema}.${tables.prefix}* are at schema version ` +
          `${current}, newer than this release of strongroom understands (${MIGRATIONS.length}). ` +
          'Upgrade strongroom on this instance.',
      );
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await run(MIGRATIONS[version - 1]!(tables));
      await run(`INSERT INTO ${tables.versions} (version) VALUES ($1)`, [version]);
    }
    await run('COMMIT');
  } catch (error) {
    failure = error;
    await run('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.off('error', ignore);
    // A client that failed is discarded rather than returned to the pool mid-transaction.
    client.release(failure === undefined ? undefined : true);
  }
}
