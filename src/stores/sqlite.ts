import { accessSync, constants, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../core/errors.js';
import type { ConfigProblem } from '../core/errors.js';
import { expiresAt } from '../core/store.js';
import type {
  DeleteAllOptions,
  DeleteAllResult,
  InsertOptions,
  InsertResult,
  RetiredToken,
  SessionStore,
  StoredSession,
  TokenMatch,
  UserSessionLimit,
} from '../core/store.js';

interface SQLiteStoreCommonOptions {
  /**
   * Prefix of the table and index names, so that the store can share a database with the
   * application. Letters, digits and underscores only, not starting with a digit.
   *
   * @default 'strongroom_'
   */
  readonly tablePrefix?: string;
  /**
   * How often, in seconds, a background sweep deletes expired sessions and retired tokens.
   * 0 turns the sweep off (call {@link SessionStore.purgeExpired} yourself). The timer never
   * keeps the process alive.
   *
   * @default 60
   */
  readonly purgeIntervalSeconds?: number;
  /**
   * Rows deleted per transaction by the background sweep. The sweep yields to the event loop
   * between batches, so a large backlog never blocks requests for long.
   *
   * @default 500
   */
  readonly purgeBatchSize?: number;
  /**
   * The clock of the background sweep, in milliseconds since the Unix epoch. Pass the same
   * clock as the session manager's when you inject one.
   *
   * @default Date.now
   */
  readonly now?: () => number;
}

/**
 * Options of {@link createSQLiteStore}: either a `path` the store opens (and closes), or a
 * `database` the caller opened and keeps ownership of.
 */
export type SQLiteStoreOptions = SQLiteStoreCommonOptions &
  (
    | {
        /**
         * Database file, created if missing, or `':memory:'`. The store opens it in WAL mode
         * with a 5-second busy timeout, and closes it on {@link SessionStore.close}.
         */
        readonly path: string;
        readonly database?: never;
      }
    | {
        /**
         * An open better-sqlite3 database. Its pragmas (journal mode, busy timeout) are left
         * as the caller set them, and {@link SessionStore.close} leaves it open.
         */
        readonly database: Database.Database;
        readonly path?: never;
      }
  );

interface SessionRow {
  id: string;
  token_hash: string;
  user_id: string | null;
  created_at: number;
  authenticated_at: number | null;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  rotated_at: number;
  version: number;
  sealed: string;
}

interface TokenMatchRow extends SessionRow {
  retired_grace_until: number | null;
}

interface SessionParameters {
  id: string;
  tokenHash: string;
  userId: string | null;
  createdAt: number;
  authenticatedAt: number | null;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  rotatedAt: number;
  expiresAt: number;
  version: number;
  sealed: string;
}

const CONFLICT: InsertResult = Object.freeze({ status: 'conflict' });
const LIMIT_REACHED: InsertResult = Object.freeze({ status: 'limit-reached' });

const TABLE_PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BUSY_TIMEOUT_MS = 5_000;

const SESSION_COLUMNS = [
  'id',
  'token_hash',
  'user_id',
  'created_at',
  'authenticated_at',
  'last_seen_at',
  'idle_expires_at',
  'absolute_expires_at',
  'rotated_at',
  'version',
  'sealed',
] as const;

/**
 * A session store in a SQLite database through `better-sqlite3`: the embedded default, one
 * file shared by every process on the host.
 *
 * Each write is one transaction. Expired rows are removed by an incremental background sweep
 * (see `purgeIntervalSeconds`). Every method returns a promise that rejects on a database
 * error; none throws synchronously. Invalid options throw a `ConfigError` listing every
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
  const resolved = resolveOptions(options);
  const { tablePrefix, purgeIntervalSeconds, purgeBatchSize, now } = resolved;

  const ownsDatabase = resolved.database === undefined;
  const db = resolved.database ?? openDatabase(resolved.path);
  try {
    if (ownsDatabase) {
      // WAL lets readers proceed while a write commits. `synchronous` stays FULL: a logout lost
      // to a power cut would bring a revoked session back.
      if (!db.memory) db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    createSchema(db, tablePrefix);
  } catch (error) {
    if (!ownsDatabase) throw error;
    db.close();
    // A file that is not a database, or is read-only, fails here rather than at the open.
    throw openFailure(resolved.path, error);
  }

  const sessions = `"${tablePrefix}sessions"`;
  const retired = `"${tablePrefix}retired_tokens"`;
  const columns = (alias: string): string => SESSION_COLUMNS.map((c) => `${alias}.${c}`).join(', ');
  const byOwner = 'user_id = @userId AND (@except IS NULL OR id <> @except)';
  const liveOfUser = `${byOwner} AND expires_at > @now`;

  const statements = {
    findByTokenHash: db.prepare<{ tokenHash: string }, TokenMatchRow>(
      `SELECT 0 AS precedence, ${columns('s')}, NULL AS retired_grace_until
         FROM ${sessions} AS s WHERE s.token_hash = @tokenHash
       UNION ALL
       SELECT 1 AS precedence, ${columns('s')}, r.grace_until AS retired_grace_until
         FROM ${retired} AS r JOIN ${sessions} AS s ON s.id = r.session_id
         WHERE r.token_hash = @tokenHash
       ORDER BY precedence LIMIT 1`,
    ),
    findById: db.prepare<{ id: string }, SessionRow>(
      `SELECT ${SESSION_COLUMNS.join(', ')} FROM ${sessions} WHERE id = @id`,
    ),
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
    versionOf: db.prepare<{ id: string }, { version: number }>(
      `SELECT version FROM ${sessions} WHERE id = @id`,
    ),
    countLiveOfUser: db.prepare<
      { userId: string; now: number; except: string | null },
      { n: number }
    >(`SELECT count(*) AS n FROM ${sessions} WHERE ${liveOfUser}`),
    leastRecentlyUsedOfUser: db.prepare<
      { userId: string; now: number; except: string | null; limit: number },
      { id: string }
    >(
      // BINARY collation (the default) orders ids by their bytes, as every store must (SM-34).
      `SELECT id FROM ${sessions} WHERE ${liveOfUser}
       ORDER BY last_seen_at, created_at, id LIMIT @limit`,
    ),
    deleteSession: db.prepare<{ id: string }>(`DELETE FROM ${sessions} WHERE id = @id`),
    deleteRetiredOf: db.prepare<{ id: string }>(`DELETE FROM ${retired} WHERE session_id = @id`),
    deleteRetiredOfUser: db.prepare<{ userId: string; except: string | null }>(
      `DELETE FROM ${retired} WHERE session_id IN (SELECT id FROM ${sessions} WHERE ${byOwner})`,
    ),
    deleteSessionsOfUser: db.prepare<{ userId: string; except: string | null }, { id: string }>(
      `DELETE FROM ${sessions} WHERE ${byOwner} RETURNING id`,
    ),
    listByUser: db.prepare<{ userId: string; now: number }, SessionRow>(
      `SELECT ${SESSION_COLUMNS.join(', ')} FROM ${sessions}
       WHERE user_id = @userId AND expires_at > @now ORDER BY created_at, id`,
    ),
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
  // A caller's database may be set to return BigInt; the store's records hold numbers.
  for (const statement of Object.values(statements)) {
    if (statement.reader) statement.safeIntegers(false);
  }

  /** The sessions to evict for the user's limit (SM-34); null when the policy refuses. */
  function overLimit(
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

  function deleteWithRetired(id: string): void {
    statements.deleteRetiredOf.run({ id });
    statements.deleteSession.run({ id });
  }

  // Run IMMEDIATE: the write lock is taken before the version check and the count, so no
  // other connection can end the replaced session or add one of the user's in between.
  const insertTransaction = db.transaction(
    (session: StoredSession, { replaces, limit }: InsertOptions): InsertResult => {
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
          : overLimit(session.userId, limit, replacedId);
      if (evicted === null) return LIMIT_REACHED;
      if (replacedId !== null) deleteWithRetired(replacedId);
      for (const id of evicted) deleteWithRetired(id);
      // Throws on an id or token hash in use, which rolls the deletions back.
      statements.insert.run(toParameters(session));
      return { status: 'inserted', evicted };
    },
  );

  const updateTransaction = db.transaction(
    (session: StoredSession, retire: RetiredToken | null): boolean => {
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
    },
  );

  const deleteAllTransaction = db.transaction((createdBefore: number, limit: number): string[] => {
    const deleted = statements.deleteCreatedBefore.all({ createdBefore, limit }).map((r) => r.id);
    for (const id of deleted) statements.deleteRetiredOf.run({ id });
    return deleted;
  });

  const deleteTransaction = db.transaction((id: string): boolean => {
    statements.deleteRetiredOf.run({ id });
    return statements.deleteSession.run({ id }).changes > 0;
  });

  const deleteByUserTransaction = db.transaction(
    (userId: string, except: string | null): string[] => {
      statements.deleteRetiredOfUser.run({ userId, except });
      return statements.deleteSessionsOfUser.all({ userId, except }).map((row) => row.id);
    },
  );

  /** Returns how many sessions and how many other retired tokens were deleted. */
  const purgeTransaction = db.transaction(
    (at: number, limit: number): { sessions: number; retired: number } => {
      const purged = statements.purgeSessions.all({ now: at, limit });
      for (const { id } of purged) statements.deleteRetiredOf.run({ id });
      const retiredTokens = statements.purgeRetired.run({ now: at, limit }).changes;
      return { sessions: purged.length, retired: retiredTokens };
    },
  );

  let closed = false;
  let sweeping = false;
  let timer: NodeJS.Timeout | undefined;

  function run<T>(operation: () => T): Promise<T> {
    return new Promise((resolve) => {
      if (closed) throw new Error('The SQLite session store is closed');
      resolve(operation());
    });
  }

  function sweepBatch(): void {
    if (closed) {
      sweeping = false;
      return;
    }
    let result: { sessions: number; retired: number };
    try {
      result = purgeTransaction.immediate(now(), purgeBatchSize);
    } catch {
      // Retried at the next interval. Nothing unsafe is left behind meanwhile: the manager
      // checks every deadline itself and never serves an expired session.
      sweeping = false;
      return;
    }
    if (result.sessions < purgeBatchSize && result.retired < purgeBatchSize) {
      sweeping = false;
      return;
    }
    setImmediate(sweepBatch).unref();
  }

  if (purgeIntervalSeconds > 0) {
    timer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sweepBatch();
    }, purgeIntervalSeconds * 1_000);
    timer.unref();
  }

  return {
    findByTokenHash(tokenHash: string): Promise<TokenMatch | null> {
      return run(() => {
        const row = statements.findByTokenHash.get({ tokenHash });
        if (row === undefined) return null;
        return { session: fromRow(row), retiredGraceUntil: row.retired_grace_until };
      });
    },

    findById(id: string): Promise<StoredSession | null> {
      return run(() => {
        const row = statements.findById.get({ id });
        return row === undefined ? null : fromRow(row);
      });
    },

    insert(session: StoredSession, options: InsertOptions): Promise<InsertResult> {
      return run(() => insertTransaction.immediate(session, options));
    },

    update(
      session: StoredSession,
      { retire }: { readonly retire: RetiredToken | null },
    ): Promise<boolean> {
      return run(() => updateTransaction.immediate(session, retire));
    },

    delete(id: string): Promise<boolean> {
      return run(() => deleteTransaction.immediate(id));
    },

    deleteByUser(
      userId: string,
      { except }: { readonly except: string | null },
    ): Promise<string[]> {
      return run(() => deleteByUserTransaction.immediate(userId, except));
    },

    deleteAll({ createdBefore, limit }: DeleteAllOptions): Promise<DeleteAllResult> {
      return run(() => {
        // Each call is one transaction over the whole table, hence a whole pass: cursor null.
        // SQLite reads a negative LIMIT as "no limit".
        if (!(limit >= 1)) return { deleted: [], cursor: null };
        return {
          deleted: deleteAllTransaction.immediate(createdBefore, Math.floor(limit)),
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
        return purgeTransaction.immediate(at, Math.floor(limit)).sessions;
      });
    },

    close(): Promise<void> {
      return new Promise((resolve) => {
        if (!closed) {
          closed = true;
          clearInterval(timer);
          if (ownsDatabase) db.close();
        }
        resolve();
      });
    },
  };
}

interface ResolvedOptions {
  readonly path: string;
  readonly database: Database.Database | undefined;
  readonly tablePrefix: string;
  readonly purgeIntervalSeconds: number;
  readonly purgeBatchSize: number;
  readonly now: () => number;
}

function resolveOptions(options: SQLiteStoreOptions): ResolvedOptions {
  const problems: ConfigProblem[] = [];
  const { path, database } = options as { path?: unknown; database?: unknown };
  const tablePrefix = options.tablePrefix ?? 'strongroom_';
  const purgeIntervalSeconds = options.purgeIntervalSeconds ?? 60;
  const purgeBatchSize = options.purgeBatchSize ?? 500;

  if ((path === undefined) === (database === undefined)) {
    problems.push({ path: 'path', message: 'give exactly one of `path` and `database`' });
  } else if (path !== undefined && (typeof path !== 'string' || path === '')) {
    problems.push({ path: 'path', message: "must be a file path or ':memory:'" });
  } else if (database !== undefined && !isOpenDatabase(database)) {
    problems.push({ path: 'database', message: 'must be an open better-sqlite3 Database' });
  }
  if (typeof tablePrefix !== 'string' || !TABLE_PREFIX_PATTERN.test(tablePrefix)) {
    problems.push({
      path: 'tablePrefix',
      message: 'must contain only letters, digits and underscores, and not start with a digit',
    });
  }
  if (!Number.isSafeInteger(purgeIntervalSeconds) || purgeIntervalSeconds < 0) {
    problems.push({
      path: 'purgeIntervalSeconds',
      message: 'must be a whole number of seconds, or 0 to turn the sweep off',
    });
  }
  if (!Number.isSafeInteger(purgeBatchSize) || purgeBatchSize < 1) {
    problems.push({ path: 'purgeBatchSize', message: 'must be a positive integer' });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    path: typeof path === 'string' ? path : '',
    database: isOpenDatabase(database) ? database : undefined,
    tablePrefix,
    purgeIntervalSeconds,
    purgeBatchSize,
    now: options.now ?? (() => Date.now()),
  };
}

function openDatabase(path: string): Database.Database {
  try {
    return new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw openFailure(path, error);
  }
}

/** SQLite result codes that mean "this file cannot serve as the session database". */
const UNUSABLE_FILE_CODES = /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|READONLY|PERM|AUTH)/;

/**
 * A ConfigError naming the file and the likely fix, for an error raised while opening the
 * store's own database; any other error (SQLITE_BUSY: another process holds the lock) as it is.
 * better-sqlite3 only says `unable to open database file`, so the file system is asked why.
 */
function openFailure(path: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const sqliteCode = typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
  const explanation =
    path === ':memory:'
      ? null
      : (explainFileProblem(resolvePath(path)) ?? explainSQLiteCode(sqliteCode));
  const missingDirectory =
    error instanceof TypeError && /directory does not exist/.test(error.message);
  if (explanation === null && !missingDirectory && !UNUSABLE_FILE_CODES.test(sqliteCode ?? '')) {
    return error;
  }
  const said = error instanceof Error ? error.message : String(error);
  const failure = new ConfigError([
    {
      path: 'path',
      message:
        `cannot open the SQLite database ${path === ':memory:' ? path : resolvePath(path)}: ` +
        `${explanation ?? 'check the path and its permissions'} ` +
        `(${sqliteCode === null ? '' : `${sqliteCode}: `}${said})`,
    },
  ]);
  // ConfigError takes no options; the driver's error stays reachable for debugging.
  Object.defineProperty(failure, 'cause', { value: error, configurable: true, writable: true });
  return failure;
}

/** Why the file system would refuse `file` as a database, or null when it would not. */
function explainFileProblem(file: string): string | null {
  const directory = dirname(file);
  const ancestors: string[] = [];
  for (let at = directory; ; at = dirname(at)) {
    ancestors.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const ancestor of ancestors) {
    let stats: Stats;
    try {
      stats = statSync(ancestor);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') {
        return `the directory ${directory} does not exist; create it (mkdir -p ${directory}) or fix the path`;
      }
      if (code === 'EACCES' || code === 'EPERM') {
        return `${processUser()} may not look inside ${dirname(ancestor)} (${code}${ownership(dirname(ancestor))}); give it access (x permission) or choose another path`;
      }
      return null;
    }
    if (!stats.isDirectory()) {
      return `${ancestor} is a file, not a directory; fix the path`;
    }
  }
  let fileStats: Stats | null = null;
  try {
    fileStats = statSync(file);
  } catch {
    // Missing: SQLite creates it, if the directory lets it.
  }
  if (fileStats?.isDirectory() === true) {
    return `${file} is a directory; give the path of a file, such as ${join(file, 'sessions.db')}`;
  }
  // WAL mode creates `-wal` and `-shm` files next to the database, even when it exists.
  const directoryDenied = accessDenied(directory, constants.W_OK | constants.X_OK);
  if (directoryDenied !== null) {
    return (
      `${processUser()} may not create files in ${directory} (${directoryDenied}${ownership(directory)}), ` +
      'as SQLite needs for the database and its -wal and -shm files; make the directory writable by that user, or choose another path'
    );
  }
  const fileDenied =
    fileStats === null ? null : accessDenied(file, constants.R_OK | constants.W_OK);
  if (fileDenied !== null) {
    return `${processUser()} may not read and write ${file} (${fileDenied}${ownership(file)}); make it writable by that user, or choose another path`;
  }
  return null;
}

function explainSQLiteCode(code: string | null): string | null {
  if (code === null) return null;
  if (code === 'SQLITE_NOTADB') {
    return 'the file is not a SQLite database (or is encrypted); point `path` at the session database or at a new file';
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return 'the database file is corrupt; restore it from a backup, or start a new file (every session ends)';
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return 'the database is read-only; make the file and its directory writable by this process';
  }
  return null;
}

function accessDenied(path: string, mode: number): string | null {
  try {
    accessSync(path, mode);
    return null;
  } catch (error) {
    return errorCode(error) ?? 'denied';
  }
}

/** `; owned by uid 0, mode 755`, or nothing when the file system will not say. */
function ownership(path: string): string {
  try {
    const { uid, mode } = statSync(path);
    return `; owned by uid ${uid}, mode ${(mode & 0o7777).toString(8)}`;
  } catch {
    return '';
  }
}

function processUser(): string {
  const uid = process.getuid?.();
  return uid === undefined ? 'this process' : `this process (uid ${uid})`;
}

function errorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

function isOpenDatabase(value: unknown): value is Database.Database {
  const candidate = value as Partial<Database.Database> | null | undefined;
  return typeof candidate?.prepare === 'function' && candidate.open === true;
}

function createSchema(db: Database.Database, prefix: string): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS "${prefix}sessions" (
      id TEXT PRIMARY KEY,
      token_hash TEXT NOT NULL UNIQUE,
      user_id TEXT,
      created_at INTEGER NOT NULL,
      authenticated_at INTEGER,
      last_seen_at INTEGER NOT NULL,
      idle_expires_at INTEGER NOT NULL,
      absolute_expires_at INTEGER NOT NULL,
      rotated_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      version INTEGER NOT NULL,
      sealed TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS "${prefix}sessions_user_id"
      ON "${prefix}sessions" (user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${prefix}sessions_expires_at" ON "${prefix}sessions" (expires_at);
    -- For deleteAll (SM-30): without it, the last pass of an incident response, which finds
    -- nothing left, would scan the whole table while holding the write lock.
    CREATE INDEX IF NOT EXISTS "${prefix}sessions_created_at" ON "${prefix}sessions" (created_at);
    CREATE TABLE IF NOT EXISTS "${prefix}retired_tokens" (
      token_hash TEXT PRIMARY KEY,
      session_id TEXT NOT NULL,
      grace_until INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS "${prefix}retired_tokens_session_id"
      ON "${prefix}retired_tokens" (session_id);
    CREATE INDEX IF NOT EXISTS "${prefix}retired_tokens_expires_at"
      ON "${prefix}retired_tokens" (expires_at);
  `);
}

function toParameters(session: StoredSession): SessionParameters {
  return {
    id: session.id,
    tokenHash: session.tokenHash,
    userId: session.userId,
    createdAt: session.createdAt,
    authenticatedAt: session.authenticatedAt,
    lastSeenAt: session.lastSeenAt,
    idleExpiresAt: session.idleExpiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    rotatedAt: session.rotatedAt,
    expiresAt: expiresAt(session),
    version: session.version,
    sealed: session.sealed,
  };
}

function fromRow(row: SessionRow): StoredSession {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: row.created_at,
    authenticatedAt: row.authenticated_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    rotatedAt: row.rotated_at,
    version: row.version,
    sealed: row.sealed,
  };
}
