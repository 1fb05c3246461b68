import Database from 'better-sqlite3';
import { startPurgeSweeper } from '../shared/purge-sweeper.js';
import type { PurgeSweeper } from '../shared/purge-sweeper.js';
import { settle } from '../shared/settle.js';
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
import { openFailure } from './open-errors.js';
import { resolveOptions } from './options.js';
import type { SQLiteStoreOptions } from './options.js';
import { fromRow } from './rows.js';
import { createSchema } from './schema.js';
import { prepareStatements } from './statements.js';
import type { Statements } from './statements.js';
import { createTransactions } from './transactions.js';
import type { Transactions } from './transactions.js';

const BUSY_TIMEOUT_MS = 5_000;

/** See `createSQLiteStore` in ../sqlite.ts, the public entry point. */
export function openSQLiteStore(options: SQLiteStoreOptions): SessionStore {
  const resolved = resolveOptions(options);
  const ownsDatabase = resolved.database === undefined;
  const db = resolved.database ?? openDatabase(resolved.path);
  try {
    if (ownsDatabase) {
      // WAL lets readers proceed while a write commits. `synchronous` stays FULL: a logout lost
      // to a power cut would bring a revoked session back.
      if (!db.memory) db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    createSchema(db, resolved.tablePrefix);
  } catch (error) {
    if (!ownsDatabase) throw error;
    db.close();
    // A file that is not a database, or is read-only, fails here rather than at the open.
    throw openFailure(resolved.path, error);
  }

  const statements = prepareStatements(db, resolved.tablePrefix);
  const transactions = createTransactions(db, statements);
  const sweeper = startPurgeSweeper({
    settings: resolved.sweep,
    purgeBatch: (now, limit) => transactions.purge.immediate(now, limit),
    // Retried at the next interval; the manager never serves an expired session meanwhile.
    onError: () => {},
  });
  return sqliteStore({ db, ownsDatabase, statements, transactions, sweeper });
}

function openDatabase(path: string): Database.Database {
  try {
    return new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw openFailure(path, error);
  }
}

interface Parts {
  readonly db: Database.Database;
  readonly ownsDatabase: boolean;
  readonly statements: Statements;
  readonly transactions: Transactions;
  readonly sweeper: PurgeSweeper;
}

function sqliteStore({ db, ownsDatabase, statements, transactions, sweeper }: Parts): SessionStore {
  let closed = false;
  const run = <T>(operation: () => T): Promise<T> =>
    settle(() => {
      if (closed) throw new Error('The SQLite session store is closed');
      return operation();
    });

  return {
    findByTokenHash(tokenHash: string): Promise<TokenMatch | null> {
      return run(() => findByTokenHash(statements, tokenHash));
    },

    findById(id: string): Promise<StoredSession | null> {
      return run(() => {
        const row = statements.findById.get({ id });
        return row === undefined ? null : fromRow(row);
      });
    },

    insert(session: StoredSession, options: InsertOptions): Promise<InsertResult> {
      return run(() => transactions.insert.immediate(session, options));
    },

    update(
      session: StoredSession,
      { retire }: { readonly retire: RetiredToken | null },
    ): Promise<boolean> {
      return run(() => transactions.update.immediate(session, retire));
    },

    delete(id: string): Promise<boolean> {
      return run(() => transactions.delete.immediate(id));
    },

    deleteByUser(
      userId: string,
      { except }: { readonly except: string | null },
    ): Promise<string[]> {
      return run(() => transactions.deleteByUser.immediate(userId, except));
    },

    deleteAll({ createdBefore, limit }: DeleteAllOptions): Promise<DeleteAllResult> {
      return run(() => {
        // Each call is one transaction over the whole table, hence a whole pass: cursor null.
        // SQLite reads a negative LIMIT as "no limit".
        if (!(limit >= 1)) return { deleted: [], cursor: null };
        return {
          deleted: transactions.deleteAll.immediate(createdBefore, Math.floor(limit)),
          cursor: null,
        };
      });
    },

    listByUser(userId: string, at: number): Promise<StoredSession[]> {
      return run(() => statements.listByUser.all({ userId, now: at }).map(fromRow));
    },

    purgeExpired(at: number, limit: number): Promise<number> {
      return run(() => {
        // SQLite reads a negative LIMIT as "no limit".
        if (!(limit >= 1)) return 0;
        return transactions.purge.immediate(at, Math.floor(limit)).sessions;
      });
    },

    close(): Promise<void> {
      return settle(() => {
        if (closed) return;
        closed = true;
        // A sweep between two batches sees the sweeper stopped and touches the database no more.
        sweeper.stop();
        if (ownsDatabase) db.close();
      });
    },
  };
}

function findByTokenHash(statements: Statements, tokenHash: string): TokenMatch | null {
  const row = statements.findByTokenHash.get({ tokenHash });
  if (row === undefined) return null;
  return { session: fromRow(row), retiredGraceUntil: row.retired_grace_until };
}
