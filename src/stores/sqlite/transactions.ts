import type Database from 'better-sqlite3';
import { StoreConflictError } from '../../core/errors.js';
import { errorCode } from '../shared/error-code.js';
import { CONFLICT, LIMIT_REACHED, inserted } from '../shared/insert-results.js';
import type { PurgeCounts } from '../shared/purge-sweeper.js';
import type {
  InsertOptions,
  InsertResult,
  RetiredToken,
  StoredSession,
  UserSessionLimit,
} from '../shared/store-types.js';
import { toParameters } from './rows.js';
import type { Statements } from './statements.js';

/**
 * The store's writes, each one transaction. Run them with `.immediate(...)`: the write lock is
 * then taken before the first read, so no other connection can change what a write checked
 * (the replaced session's version, the user's count) before it commits.
 */
export interface Transactions {
  readonly insert: Database.Transaction<(s: StoredSession, o: InsertOptions) => InsertResult>;
  readonly update: Database.Transaction<(s: StoredSession, r: RetiredToken | null) => boolean>;
  readonly delete: Database.Transaction<(id: string) => boolean>;
  readonly deleteByUser: Database.Transaction<(u: string, except: string | null) => string[]>;
  readonly deleteAll: Database.Transaction<(createdBefore: number, limit: number) => string[]>;
  readonly purge: Database.Transaction<(now: number, limit: number) => PurgeCounts>;
}

export function createTransactions(db: Database.Database, statements: Statements): Transactions {
  return {
    insert: db.transaction((session: StoredSession, options: InsertOptions) =>
      insertSession(statements, session, options),
    ),
    update: db.transaction((session: StoredSession, retire: RetiredToken | null) =>
      updateSession(statements, session, retire),
    ),
    delete: db.transaction((id: string): boolean => {
      statements.deleteRetiredOf.run({ id });
      return statements.deleteSession.run({ id }).changes > 0;
    }),
    deleteByUser: db.transaction((userId: string, except: string | null): string[] => {
      statements.deleteRetiredOfUser.run({ userId, except });
      return statements.deleteSessionsOfUser.all({ userId, except }).map((row) => row.id);
    }),
    deleteAll: db.transaction((createdBefore: number, limit: number): string[] => {
      const deleted = statements.deleteCreatedBefore.all({ createdBefore, limit }).map((r) => r.id);
      for (const id of deleted) statements.deleteRetiredOf.run({ id });
      return deleted;
    }),
    purge: db.transaction((now: number, limit: number) => purge(statements, now, limit)),
  };
}

function insertSession(
  statements: Statements,
  session: StoredSession,
  { replaces, limit }: InsertOptions,
): InsertResult {
  if (
    replaces !== null &&
    statements.versionOf.get({ id: replaces.id })?.version !== replaces.version
  ) {
    return CONFLICT;
  }
  const replacedId = replaces?.id ?? null;
  const evicted =
    limit === null || session.userId === null
      ? []
      : overLimit(statements, session.userId, limit, replacedId);
  if (evicted === null) return LIMIT_REACHED;
  if (replacedId !== null) deleteWithRetired(statements, replacedId);
  for (const id of evicted) deleteWithRetired(statements, id);
  try {
    statements.insert.run(toParameters(session));
  } catch (error) {
    // Thrown out of the transaction, which rolls the deletions back.
    throw conflictError(statements, session, error);
  }
  return inserted(evicted);
}

/**
 * A `StoreConflictError` for an insert refused by the primary key (the id) or the unique token
 * hash, any other error as it is. When both are taken the id is named, as in every store;
 * SQLite reports whichever constraint it checked first, so the id is looked up (after the
 * deletions of this transaction: the id of the session it replaces is free).
 */
function conflictError(statements: Statements, session: StoredSession, error: unknown): unknown {
  const code = errorCode(error);
  if (code !== 'SQLITE_CONSTRAINT_PRIMARYKEY' && code !== 'SQLITE_CONSTRAINT_UNIQUE') return error;
  const idTaken =
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    statements.versionOf.get({ id: session.id }) !== undefined;
  return new StoreConflictError(idTaken ? 'session id' : 'token hash', { cause: error });
}

/** The sessions to evict for the user's limit (SM-34); null when the policy refuses. */
function overLimit(
  statements: Statements,
  userId: string,
  limit: UserSessionLimit,
  except: string | null,
): string[] | null {
  const query = { userId, now: limit.now, except };
  const excess = statements.countLiveOfUser.get(query)!.n + 1 - limit.max;
  if (excess <= 0) return [];
  if (limit.policy === 'refuse') return null;
  return statements.leastRecentlyUsedOfUser.all({ ...query, limit: excess }).map((r) => r.id);
}

function deleteWithRetired(statements: Statements, id: string): void {
  statements.deleteRetiredOf.run({ id });
  statements.deleteSession.run({ id });
}

function updateSession(
  statements: Statements,
  session: StoredSession,
  retire: RetiredToken | null,
): boolean {
  const updated = statements.update.run({
    ...toParameters(session),
    expectedVersion: session.version - 1,
  });
  if (updated.changes === 0) return false;
  if (retire !== null) {
    const inserted = statements.retire.run({
      tokenHash: retire.tokenHash,
      sessionId: session.id,
      graceUntil: retire.graceUntil,
      expiresAt: session.absoluteExpiresAt,
    });
    if (inserted.changes === 0) throw new Error('Another session already retired this token');
  }
  return true;
}

/** Deletes expired sessions (with their retired tokens) and expired retired tokens. */
function purge(statements: Statements, now: number, limit: number): PurgeCounts {
  const purged = statements.purgeSessions.all({ now, limit });
  for (const { id } of purged) statements.deleteRetiredOf.run({ id });
  const retiredTokens = statements.purgeRetired.run({ now, limit }).changes;
  return { sessions: purged.length, retired: retiredTokens };
}
