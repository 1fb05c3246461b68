import type Database from 'better-sqlite3';
import { quoteIdentifier } from '../shared/identifiers.js';
import { SESSION_COLUMNS, qualifiedColumns } from '../shared/rows.js';
import type { SessionParameters, SQLiteSessionRow, TokenMatchRow } from './rows.js';

interface Tables {
  readonly sessions: string;
  readonly retired: string;
}

interface Owner {
  userId: string;
  except: string | null;
}

type Statement<P extends object, R = unknown> = Database.Statement<P, R>;

interface Lookups {
  readonly findByTokenHash: Statement<{ tokenHash: string }, TokenMatchRow>;
  readonly findById: Statement<{ id: string }, SQLiteSessionRow>;
  readonly versionOf: Statement<{ id: string }, { version: number }>;
  readonly countLiveOfUser: Statement<Owner & { now: number }, { n: number }>;
  readonly leastRecentlyUsedOfUser: Statement<
    Owner & { now: number; limit: number },
    { id: string }
  >;
  readonly listByUser: Statement<{ userId: string; now: number }, SQLiteSessionRow>;
}

interface Writes {
  readonly insert: Statement<SessionParameters>;
  readonly update: Statement<SessionParameters & { expectedVersion: number }>;
  readonly retire: Statement<{
    tokenHash: string;
    sessionId: string;
    graceUntil: number;
    expiresAt: number;
  }>;
  readonly deleteSession: Statement<{ id: string }>;
  readonly deleteRetiredOf: Statement<{ id: string }>;
  readonly deleteRetiredOfUser: Statement<Owner>;
  readonly deleteSessionsOfUser: Statement<Owner, { id: string }>;
}

interface Sweeps {
  readonly purgeSessions: Statement<{ now: number; limit: number }, { id: string }>;
  readonly deleteCreatedBefore: Statement<{ createdBefore: number; limit: number }, { id: string }>;
  readonly purgeRetired: Statement<{ now: number; limit: number }>;
}

/** Every statement of the store, prepared once when it opens. */
export type Statements = Lookups & Writes & Sweeps;

export function prepareStatements(db: Database.Database, tablePrefix: string): Statements {
  const tables: Tables = {
    sessions: quoteIdentifier(`${tablePrefix}sessions`),
    retired: quoteIdentifier(`${tablePrefix}retired_tokens`),
  };
  const statements = {
    ...prepareLookups(db, tables),
    ...prepareWrites(db, tables),
    ...prepareSweeps(db, tables),
  };
  // A caller's database may be set to return BigInt; the store's records hold numbers.
  for (const statement of Object.values(statements)) {
    if (statement.reader) statement.safeIntegers(false);
  }
  return statements;
}

const byOwner = 'user_id = @userId AND (@except IS NULL OR id <> @except)';
const liveOfUser = `${byOwner} AND expires_at > @now`;

function prepareLookups(db: Database.Database, { sessions, retired }: Tables): Lookups {
  return {
    findByTokenHash: db.prepare<{ tokenHash: string }, TokenMatchRow>(
      `SELECT 0 AS precedence, ${qualifiedColumns('s')}, NULL AS retired_grace_until
         FROM ${sessions} AS s WHERE s.token_hash = @tokenHash
       UNION ALL
       SELECT 1 AS precedence, ${qualifiedColumns('s')}, r.grace_until AS retired_grace_until
         FROM ${retired} AS r JOIN ${sessions} AS s ON s.id = r.session_id
         WHERE r.token_hash = @tokenHash
       ORDER BY precedence LIMIT 1`,
    ),
    findById: db.prepare<{ id: string }, SQLiteSessionRow>(
      `SELECT ${SESSION_COLUMNS.join(', ')} FROM ${sessions} WHERE id = @id`,
    ),
    versionOf: db.prepare<{ id: string }, { version: number }>(
      `SELECT version FROM ${sessions} WHERE id = @id`,
    ),
    countLiveOfUser: db.prepare<Owner & { now: number }, { n: number }>(
      `SELECT count(*) AS n FROM ${sessions} WHERE ${liveOfUser}`,
    ),
    leastRecentlyUsedOfUser: db.prepare<Owner & { now: number; limit: number }, { id: string }>(
      // BINARY collation (the default) orders ids by their bytes, as every store must (SM-34).
      `SELECT id FROM ${sessions} WHERE ${liveOfUser}
       ORDER BY last_seen_at, created_at, id LIMIT @limit`,
    ),
    listByUser: db.prepare<{ userId: string; now: number }, SQLiteSessionRow>(
      `SELECT ${SESSION_COLUMNS.join(', ')} FROM ${sessions}
       WHERE user_id = @userId AND expires_at > @now ORDER BY created_at, id`,
    ),
  };
}

function prepareWrites(db: Database.Database, { sessions, retired }: Tables): Writes {
  return {
    insert: db.prepare<SessionParameters>(
      `INSERT INTO ${sessions} (${SESSION_COLUMNS.join(', ')}, expires_at)
       VALUES (@id, @tokenHash, @userId, @createdAt, @authenticatedAt, @lastSeenAt,
               @idleExpiresAt, @absoluteExpiresAt, @rotatedAt, @version, @sealed, @expiresAt)`,
    ),
    update: db.prepare<SessionParameters & { expectedVersion: number }>(
      `UPDATE ${sessions} SET token_hash = @tokenHash, user_id = @userId,
         created_at = @createdAt, authenticated_at = @authenticatedAt,
         last_seen_at = @lastSeenAt, idle_expires_at = @idleExpiresAt,
         absolute_expires_at = @absoluteExpiresAt, rotated_at = @rotatedAt,
         expires_at = @expiresAt, version = @version, sealed = @sealed
       WHERE id = @id AND version = @expectedVersion`,
    ),
    retire: db.prepare<{
      tokenHash: string;
      sessionId: string;
      graceUntil: number;
      expiresAt: number;
    }>(
      `INSERT INTO ${retired} (token_hash, session_id, grace_until, expires_at)
       VALUES (@tokenHash, @sessionId, @graceUntil, @expiresAt)
       ON CONFLICT (token_hash) DO UPDATE
         SET grace_until = excluded.grace_until, expires_at = excluded.expires_at
         WHERE session_id = excluded.session_id`,
    ),
    deleteSession: db.prepare<{ id: string }>(`DELETE FROM ${sessions} WHERE id = @id`),
    deleteRetiredOf: db.prepare<{ id: string }>(`DELETE FROM ${retired} WHERE session_id = @id`),
    deleteRetiredOfUser: db.prepare<Owner>(
      `DELETE FROM ${retired} WHERE session_id IN (SELECT id FROM ${sessions} WHERE ${byOwner})`,
    ),
    deleteSessionsOfUser: db.prepare<Owner, { id: string }>(
      `DELETE FROM ${sessions} WHERE ${byOwner} RETURNING id`,
    ),
  };
}

function prepareSweeps(db: Database.Database, { sessions, retired }: Tables): Sweeps {
  return {
    purgeSessions: db.prepare<{ now: number; limit: number }, { id: string }>(
      `DELETE FROM ${sessions} WHERE rowid IN
         (SELECT rowid FROM ${sessions} WHERE expires_at <= @now ORDER BY expires_at LIMIT @limit)
       RETURNING id`,
    ),
    deleteCreatedBefore: db.prepare<{ createdBefore: number; limit: number }, { id: string }>(
      `DELETE FROM ${sessions} WHERE rowid IN
         (SELECT rowid FROM ${sessions} WHERE created_at < @createdBefore LIMIT @limit)
       RETURNING id`,
    ),
    purgeRetired: db.prepare<{ now: number; limit: number }>(
      `DELETE FROM ${retired} WHERE rowid IN
         (SELECT rowid FROM ${retired} WHERE expires_at <= @now LIMIT @limit)`,
    ),
  };
}
