import type Database from 'better-sqlite3';
import { ConfigError } from '../../core/errors.js';
import type { ConfigProblem } from '../../core/errors.js';
import { isIdentifier } from '../shared/identifiers.js';
import { resolvePurgeSweep } from '../shared/purge-sweeper.js';
import type { PurgeSweepOptions, PurgeSweepSettings } from '../shared/purge-sweeper.js';

interface SQLiteStoreCommonOptions extends PurgeSweepOptions {
  /**
   * Prefix of the table and index names, so that the store can share a database with the
   * application. Letters, digits and underscores only, not starting with a digit.
   *
   * @default 'strongroom_'
   */
  readonly tablePrefix?: string;
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

export interface ResolvedOptions {
  readonly path: string;
  readonly database: Database.Database | undefined;
  readonly tablePrefix: string;
  readonly sweep: PurgeSweepSettings;
}

/** Validates every option at once (a ConfigError lists each problem) and applies the defaults. */
export function resolveOptions(options: SQLiteStoreOptions): ResolvedOptions {
  const problems: ConfigProblem[] = [];
  const { path, database } = options as { path?: unknown; database?: unknown };
  const tablePrefix = options.tablePrefix ?? 'strongroom_';

  if ((path === undefined) === (database === undefined)) {
    problems.push({ path: 'path', message: 'give exactly one of `path` and `database`' });
  } else if (path !== undefined && (typeof path !== 'string' || path === '')) {
    problems.push({ path: 'path', message: "must be a file path or ':memory:'" });
  } else if (database !== undefined && !isOpenDatabase(database)) {
    problems.push({ path: 'database', message: 'must be an open better-sqlite3 Database' });
  }
  if (!isIdentifier(tablePrefix, Number.POSITIVE_INFINITY)) {
    problems.push({
      path: 'tablePrefix',
      message: 'must contain only letters, digits and underscores, and not start with a digit',
    });
  }
  const sweep = resolvePurgeSweep(options, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    path: typeof path === 'string' ? path : '',
    database: isOpenDatabase(database) ? database : undefined,
    tablePrefix,
    sweep,
  };
}

function isOpenDatabase(value: unknown): value is Database.Database {
  const candidate = value as Partial<Database.Database> | null | undefined;
  return typeof candidate?.prepare === 'function' && candidate.open === true;
}
