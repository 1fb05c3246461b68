import pg from 'pg';
import type { Pool } from 'pg';
import { MAX_INT32, startPurgeSweeper } from '../shared/purge-sweeper.js';
import type { PurgeCounts } from '../shared/purge-sweeper.js';
import { sessionColumnValues } from '../shared/rows.js';
import type { Integer } from '../shared/rows.js';
import type {
  DeleteAllOptions,
  DeleteAllResult,
  InsertOptions,
  InsertResult,
  RetiredToken,
  SessionStore,
  StoredSession,
  TokenMatch,
} from '../shared/store-types.js';
import { PostgresConnection } from './connection.js';
import { conflictError } from './errors.js';
import { QUERY_TIMEOUT_MS } from './migrations.js';
import { tableNames } from './names.js';
import { resolveOptions } from './options.js';
import type { PostgresStoreOptions } from './options.js';
import { fromRow, toInsertResult, toInteger } from './rows.js';
import type { InsertRow, PostgresSessionRow, TokenMatchRow } from './rows.js';
import { createStatements } from './statements.js';
import type { Statements } from './statements.js';

/** A {@link SessionStore} in PostgreSQL, as returned by {@link createPostgresStore}. */
export interface PostgresStore extends SessionStore {
  /**
   * Creates or migrates the tables now and resolves once they are ready. Optional: the first
   * call of any other method does it too. Await it at start-up to fail fast on a wrong
   * connection string or missing privileges; after a rejection, the next call tries again.
   */
  ready(): Promise<void>;
}

/** What every operation works with. */
interface Context {
  readonly connection: PostgresConnection;
  readonly statements: Statements;
  readonly tablePrefix: string;
}

/** See `createPostgresStore` in ../postgres.ts, the public entry point. */
export function openPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const {
    connectionString,
    pool: callerPool,
    schema,
    tablePrefix,
    sweep,
  } = resolveOptions(options);
  const tables = tableNames(schema, tablePrefix);
  const connection = new PostgresConnection(
    callerPool ?? createPool(connectionString),
    callerPool === undefined,
    tables,
  );
  const context: Context = { connection, statements: createStatements(tables), tablePrefix };
  const sweeper = startPurgeSweeper({
    settings: sweep,
    purgeBatch: (now, limit) => purgeBatch(context, now, limit),
    onError: (error) =>
      connection.warnOnce(
        'could not purge expired sessions (%s); the sweep tries again later.',
        error,
      ),
  });
  let closing: Promise<void> | undefined;

  return {
    async ready(): Promise<void> {
      connection.assertOpen();
      await connection.ensureSchema();
    },
    findByTokenHash: (tokenHash: string): Promise<TokenMatch | null> =>
      findByTokenHash(context, tokenHash),
    findById: (id: string): Promise<StoredSession | null> => findById(context, id),
    insert: (session: StoredSession, insertOptions: InsertOptions): Promise<InsertResult> =>
      insertSession(context, session, insertOptions),
    update: (
      session: StoredSession,
      { retire }: { readonly retire: RetiredToken | null },
    ): Promise<boolean> => updateSession(context, session, retire),
    delete: (id: string): Promise<boolean> => deleteSession(context, id),
    deleteByUser: (
      userId: string,
      { except }: { readonly except: string | null },
    ): Promise<string[]> => deleteByUser(context, userId, except),
    deleteAll: (deleteOptions: DeleteAllOptions): Promise<DeleteAllResult> =>
      deleteAll(context, deleteOptions),
    listByUser: (userId: string, at: number): Promise<StoredSession[]> =>
      listByUser(context, userId, at),
    async purgeExpired(at: number, limit: number): Promise<number> {
      connection.assertOpen();
      // PostgreSQL rejects a negative LIMIT; NaN and fractions are the caller's mistake too.
      if (!(limit >= 1)) return 0;
      return (await purgeBatch(context, at, Math.min(Math.floor(limit), MAX_INT32))).sessions;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        connection.close();
        sweeper.stop();
        await sweeper.idle();
        await connection.release();
      })();
      return closing;
    },
  };
}

/** The pool of a store given a connection string; see `connectionString` for the why. */
function createPool(connectionString: string): Pool {
  return new pg.Pool({
    connectionString,
    max: 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 5_000,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    allowExitOnIdle: true,
    application_name: 'strongroom',
  });
}

async function findByTokenHash(
  { connection, statements }: Context,
  tokenHash: string,
): Promise<TokenMatch | null> {
  const { rows } = await connection.query<TokenMatchRow>(statements.findByTokenHash, [tokenHash]);
  const row = rows[0];
  if (row === undefined) return null;
  return {
    session: fromRow(row),
    retiredGraceUntil: row.retired_grace_until === null ? null : toInteger(row.retired_grace_until),
  };
}

async function findById(
  { connection, statements }: Context,
  id: string,
): Promise<StoredSession | null> {
  const { rows } = await connection.query<PostgresSessionRow>(statements.findById, [id]);
  const row = rows[0];
  return row === undefined ? null : fromRow(row);
}

async function insertSession(
  { connection, statements, tablePrefix }: Context,
  session: StoredSession,
  { replaces, limit }: InsertOptions,
): Promise<InsertResult> {
  // The limit counts a user's sessions; an anonymous session has no peers to count.
  const cap = session.userId === null ? null : limit;
  try {
    const { rows } = await connection.query<InsertRow>(statements.insert, [
      ...sessionColumnValues(session),
      replaces?.id ?? null,
      replaces?.version ?? null,
      cap?.max ?? null,
      cap?.policy ?? null,
      cap?.now ?? null,
    ]);
    return toInsertResult(rows[0]);
  } catch (error) {
    throw conflictError(error, tablePrefix);
  }
}

async function updateSession(
  { connection, statements }: Context,
  session: StoredSession,
  retire: RetiredToken | null,
): Promise<boolean> {
  const { rows } = await connection.query<{ updated: Integer }>(statements.update, [
    ...sessionColumnValues(session),
    session.version - 1,
    retire?.tokenHash ?? null,
    retire?.graceUntil ?? null,
  ]);
  const row = rows[0];
  return row !== undefined && toInteger(row.updated) > 0;
}

async function deleteSession({ connection, statements }: Context, id: string): Promise<boolean> {
  const { rowCount } = await connection.query(statements.delete, [id]);
  return (rowCount ?? 0) > 0;
}

async function deleteByUser(
  { connection, statements }: Context,
  userId: string,
  except: string | null,
): Promise<string[]> {
  const { rows } = await connection.query<{ id: string }>(statements.deleteByUser, [
    userId,
    except,
  ]);
  return rows.map((row) => row.id);
}

async function deleteAll(
  { connection, statements }: Context,
  { createdBefore, limit, cursor }: DeleteAllOptions,
): Promise<DeleteAllResult> {
  // Rejected rather than clamped to nothing: a revoke-all that silently deleted nothing would
  // leave an incident open.
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError('deleteAll needs a positive integer limit');
  }
  const { rows } = await connection.query<{ deleted: string[] | null; cursor: string | null }>(
    statements.deleteAll,
    [createdBefore, Math.min(limit, MAX_INT32), cursor],
  );
  const row = rows[0];
  return { deleted: row?.deleted ?? [], cursor: row?.cursor ?? null };
}

async function listByUser(
  { connection, statements }: Context,
  userId: string,
  at: number,
): Promise<StoredSession[]> {
  const { rows } = await connection.query<PostgresSessionRow>(statements.listByUser, [userId, at]);
  return rows.map(fromRow);
}

async function purgeBatch(
  { connection, statements }: Context,
  at: number,
  limit: number,
): Promise<PurgeCounts> {
  const { rows } = await connection.query<{ sessions: Integer; retired: Integer }>(
    statements.purge,
    [at, limit],
  );
  const row = rows[0];
  return {
    sessions: row === undefined ? 0 : toInteger(row.sessions),
    retired: row === undefined ? 0 : toInteger(row.retired),
  };
}
