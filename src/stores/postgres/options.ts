import type { Pool } from 'pg';
import { ConfigError } from '../../core/errors.js';
import type { ConfigProblem } from '../../core/errors.js';
import { isIdentifier } from '../shared/identifiers.js';
import { resolvePurgeSweep } from '../shared/purge-sweeper.js';
import type { PurgeSweepOptions, PurgeSweepSettings } from '../shared/purge-sweeper.js';

const MAX_SCHEMA_LENGTH = 63;
/** 63 bytes minus the longest name derived from it (`retired_tokens_session_id_fkey`). */
const MAX_TABLE_PREFIX_LENGTH = 32;

interface PostgresStoreCommonOptions extends PurgeSweepOptions {
  /**
   * The PostgreSQL schema that holds the tables. Created when missing (this needs the CREATE
   * privilege on the database; create it beforehand otherwise). Every query names it
   * explicitly, so the connection's `search_path` never decides which tables are used. Letters,
   * digits and underscores only, not starting with a digit, at most 63 characters.
   *
   * @default 'public'
   */
  readonly schema?: string;
  /**
   * Prefix of the table and index names, so that the store can share a schema with the
   * application. Letters, digits and underscores only, not starting with a digit, at most 32
   * characters (PostgreSQL truncates names longer than 63 bytes).
   *
   * @default 'strongroom_'
   */
  readonly tablePrefix?: string;
}

/**
 * Options of {@link createPostgresStore}: either a `connectionString` the store connects with
 * (and owns the pool of), or a `pool` the caller created and keeps ownership of.
 */
export type PostgresStoreOptions = PostgresStoreCommonOptions &
  (
    | {
        /**
         * A libpq-style connection string (`postgres://user:password@host:5432/db`). The store
         * creates a `pg.Pool` and ends it on {@link SessionStore.close}. The pool is tuned so
         * that an outage fails every call within seconds instead of hanging a request:
         *
         * - `max: 10` connections; `idleTimeoutMillis: 30_000`;
         * - `connectionTimeoutMillis: 5_000`, which also bounds the wait for a free connection;
         * - `statement_timeout: 5_000` on the server, and a client-side read timeout of 6 s per
         *   query for a server that stops answering without closing the connection;
         * - `idle_in_transaction_session_timeout: 10_000`; TCP keep-alive; `allowExitOnIdle`,
         *   so idle connections never keep the process alive; `application_name: 'strongroom'`.
         *
         * Pass your own `pool` for other settings.
         */
        readonly connectionString: string;
        readonly pool?: never;
      }
    | {
        /**
         * A `pg.Pool` the caller owns: {@link SessionStore.close} leaves it open. Its settings
         * are used as they are, so give it a `connectionTimeoutMillis` (without one, a call made
         * while the server is unreachable waits for the operating system's TCP timeout). The
         * store adds a 6-second read timeout to each of its own queries, and listens for the
         * pool's `'error'` event until it is closed, so that an idle connection dropped by the
         * server never crashes the process.
         */
        readonly pool: Pool;
        readonly connectionString?: never;
      }
  );

export interface ResolvedOptions {
  readonly connectionString: string;
  readonly pool: Pool | undefined;
  readonly schema: string;
  readonly tablePrefix: string;
  readonly sweep: PurgeSweepSettings;
}

/** Validates every option at once (a ConfigError lists each problem) and applies the defaults. */
export function resolveOptions(options: PostgresStoreOptions): ResolvedOptions {
  const problems: ConfigProblem[] = [];
  const { connectionString, pool } = options as { connectionString?: unknown; pool?: unknown };
  const schema = options.schema ?? 'public';
  const tablePrefix = options.tablePrefix ?? 'strongroom_';

  if ((connectionString === undefined) === (pool === undefined)) {
    problems.push({
      path: 'connectionString',
      message: 'give exactly one of `connectionString` and `pool`',
    });
  } else if (
    connectionString !== undefined &&
    (typeof connectionString !== 'string' || connectionString === '')
  ) {
    problems.push({
      path: 'connectionString',
      message: 'must be a connection string such as postgres://user@host:5432/database',
    });
  } else if (pool !== undefined && !isOpenPool(pool)) {
    problems.push({ path: 'pool', message: 'must be a pg.Pool that has not been ended' });
  }
  if (!isIdentifier(schema, MAX_SCHEMA_LENGTH)) {
    problems.push({
      path: 'schema',
      message: `must contain only letters, digits and underscores, not start with a digit, and be at most ${MAX_SCHEMA_LENGTH} characters`,
    });
  }
  if (!isIdentifier(tablePrefix, MAX_TABLE_PREFIX_LENGTH)) {
    problems.push({
      path: 'tablePrefix',
      message: `must contain only letters, digits and underscores, not start with a digit, and be at most ${MAX_TABLE_PREFIX_LENGTH} characters`,
    });
  }
  const sweep = resolvePurgeSweep(options, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    connectionString: typeof connectionString === 'string' ? connectionString : '',
    pool: isOpenPool(pool) ? pool : undefined,
    schema,
    tablePrefix,
    sweep,
  };
}

function isOpenPool(value: unknown): value is Pool {
  const candidate = value as Partial<Pool> | null | undefined;
  return (
    typeof candidate?.query === 'function' &&
    typeof candidate.connect === 'function' &&
    typeof candidate.on === 'function' &&
    candidate.ending !== true
  );
}
