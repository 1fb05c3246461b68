import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { summarizeError } from '../core/error-summary.js';
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
} from '../core/store.js';

interface PostgresStoreCommonOptions {
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
  /**
   * How often, in seconds, a background sweep deletes expired sessions and retired tokens.
   * 0 turns the sweep off (call {@link SessionStore.purgeExpired} yourself, or leave it to a
   * single instance). The timer never keeps the process alive. Several instances sweeping the
   * same tables do not block one another (`FOR UPDATE SKIP LOCKED`).
   *
   * @default 60
   */
  readonly purgeIntervalSeconds?: number;
  /**
   * Rows deleted per statement by the background sweep, which keeps going batch after batch
   * while a batch comes back full. Small batches keep each statement's locks short.
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

/** A {@link SessionStore} in PostgreSQL, as returned by {@link createPostgresStore}. */
export interface PostgresStore extends SessionStore {
  /**
   * Creates or migrates the tables now and resolves once they are ready. Optional: the first
   * call of any other method does it too. Await it at start-up to fail fast on a wrong
   * connection string or missing privileges; after a rejection, the next call tries again.
   */
  ready(): Promise<void>;
}

/** A bigint column as `pg` hands it over: a string by default, or whatever the app's parser returns. */
type Integer = string | number | bigint;

type SessionRow = {
  id: string;
  token_hash: string;
  user_id: string | null;
  created_at: Integer;
  authenticated_at: Integer | null;
  last_seen_at: Integer;
  idle_expires_at: Integer;
  absolute_expires_at: Integer;
  rotated_at: Integer;
  version: Integer;
  sealed: string;
};

type TokenMatchRow = SessionRow & { retired_grace_until: Integer | null };

type InsertRow = { status: string; evicted: string[] | null };

interface Statement {
  readonly name: string;
  readonly text: string;
}

const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_SCHEMA_LENGTH = 63;
/** 63 bytes minus the longest name derived from it (`retired_tokens_session_id_fkey`). */
const MAX_TABLE_PREFIX_LENGTH = 32;
/** Above PostgreSQL's 5-second statement timeout, so that the server's cancellation normally wins. */
const QUERY_TIMEOUT_MS = 6_000;
const MAX_LIMIT = 2_147_483_647;
/** First key of the two-key advisory lock that serialises schema migrations ("SR" in ASCII). */
const MIGRATION_LOCK_CLASS = 0x5352;
/**
 * First key of the two-key, transaction-scoped advisory lock on one user's sessions ("SU" in
 * ASCII); the second is `hashtext(user_id)`. Baked into the functions of schema version 2:
 * changing it takes a migration that re-creates them.
 */
const USER_LOCK_CLASS = 0x5355;

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

interface TableNames {
  readonly schema: string;
  readonly prefix: string;
  readonly sessions: string;
  readonly retired: string;
  readonly versions: string;
  readonly insertSession: string;
  readonly deleteUserSessions: string;
  readonly deleteAllSessions: string;
}

/*
 * Why PL/pgSQL functions. Under READ COMMITTED a single statement works on the snapshot taken
 * when it started, before any lock it then waits for: a DELETE of a user's sessions that waits
 * on a row a concurrent login is replacing sees, once that login commits, the old row gone and
 * not the new one, which survives the revocation; two parallel logins each count the user's
 * sessions without the other's and both insert past the cap. In a VOLATILE function every
 * statement takes a fresh snapshot, so a function can take a per-user advisory lock first and
 * then read what every earlier holder committed, and the whole call is still one statement:
 * one round trip, atomic (an error rolls every step back).
 *
 * Every function that changes a user's set of sessions takes
 * pg_advisory_xact_lock(USER_LOCK_CLASS, hashtext(user_id)) before touching a row and holds it
 * to commit. hashtext() is only ever compared between live connections to one server, never
 * stored, so its stability across major versions does not matter; a collision between two user
 * ids only makes them wait for each other. A transaction takes all its advisory locks before
 * its first row lock, in ascending key order, and the statements that take no advisory lock
 * (update, delete, purge, deleteAll) never wait on a row while holding another: no cycle of
 * waits, so no deadlock.
 *
 * The functions pin search_path (everything is schema-qualified anyway, so that nothing an
 * application creates can shadow an operator or function they call) and refuse to run under
 * REPEATABLE READ, where the whole transaction shares one snapshot taken before the lock and
 * the guarantees above silently fail. SERIALIZABLE keeps them: the conflicts surface as
 * serialization failures (40001) instead.
 *
 * The three builders below are schema version 2, like the MIGRATIONS entry that calls them:
 * once released, change a function only through a new entry that re-creates it
 * (CREATE OR REPLACE), never by editing these.
 */

/** The opening of every function body: refuses the isolation level under which it is unsound. */
const FUNCTION_PROLOGUE = `
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
      RAISE EXCEPTION 'The Strongroom PostgreSQL session store needs READ COMMITTED (or SERIALIZABLE) transactions, not REPEATABLE READ'
        USING ERRCODE = 'invalid_transaction_state';
    END IF;`;

/**
 * insert(): locks the users of the new session and of the one it replaces, checks the replaced
 * session at the version the caller read, applies the limit, then deletes and inserts.
 */
function insertSessionFunction({ sessions, insertSession }: TableNames): string {
  // The user's live sessions that count towards the limit: all but the one replaced. Eviction
  // takes them least recently used first (SM-34), ties broken by id in byte order, as the
  // other stores compare ids.
  const peers = `FROM ${sessions} WHERE user_id = p_user_id AND expires_at > p_limit_now
          AND (p_replaces_id IS NULL OR id <> p_replaces_id)`;
  return `
    CREATE OR REPLACE FUNCTION ${insertSession} (
      p_id text, p_token_hash text, p_user_id text, p_created_at bigint,
      p_authenticated_at bigint, p_last_seen_at bigint, p_idle_expires_at bigint,
      p_absolute_expires_at bigint, p_rotated_at bigint, p_version integer, p_sealed text,
      p_expires_at bigint, p_replaces_id text, p_replaces_version integer,
      p_limit_max integer, p_limit_policy text, p_limit_now bigint,
      OUT o_status text, OUT o_evicted text[]
    ) LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
    DECLARE
      v_replaced_user text;
      v_key integer;
      v_excess bigint;
    BEGIN${FUNCTION_PROLOGUE}
      IF p_limit_policy IS NOT NULL AND p_limit_policy NOT IN ('refuse', 'evict-oldest') THEN
        RAISE EXCEPTION 'Unknown session limit policy %', p_limit_policy
          USING ERRCODE = 'invalid_parameter_value';
      END IF;
      o_evicted := '{}';
      -- Read without a lock only to know whose lock to take; the version check below, made
      -- under that lock, fails if the session changed (and so perhaps its user) meanwhile.
      IF p_replaces_id IS NOT NULL THEN
        SELECT user_id INTO v_replaced_user FROM ${sessions} WHERE id = p_replaces_id;
      END IF;
      FOR v_key IN
        SELECT DISTINCT hashtext(u) FROM unnest(ARRAY[p_user_id, v_replaced_user]) AS u
        WHERE u IS NOT NULL ORDER BY 1
      LOOP
        PERFORM pg_advisory_xact_lock(${USER_LOCK_CLASS}, v_key);
      END LOOP;

      -- A session that was logged out, revoked or written since the caller read it is never
      -- replaced, so it never comes back under a new id (SM-31).
      IF p_replaces_id IS NOT NULL THEN
        PERFORM FROM ${sessions} WHERE id = p_replaces_id AND version = p_replaces_version
          FOR UPDATE;
        IF NOT FOUND THEN
          o_status := 'conflict';
          RETURN;
        END IF;
      END IF;

      IF p_user_id IS NOT NULL AND p_limit_max IS NOT NULL THEN
        SELECT count(*) + 1 - p_limit_max INTO v_excess ${peers};
        IF v_excess > 0 THEN
          IF p_limit_policy = 'refuse' THEN
            o_status := 'limit-reached';
            RETURN;
          END IF;
          WITH evicted AS (
            DELETE FROM ${sessions} WHERE id IN (
              SELECT id ${peers}
              ORDER BY last_seen_at, created_at, id COLLATE "C" LIMIT v_excess
            ) RETURNING id, last_seen_at, created_at
          )
          SELECT coalesce(array_agg(id ORDER BY last_seen_at, created_at, id COLLATE "C"), '{}')
            INTO o_evicted FROM evicted;
        END IF;
      END IF;

      -- Its retired tokens follow through ON DELETE CASCADE.
      IF p_replaces_id IS NOT NULL THEN
        DELETE FROM ${sessions} WHERE id = p_replaces_id;
      END IF;
      INSERT INTO ${sessions} (${SESSION_COLUMNS.join(', ')}, expires_at)
      VALUES (p_id, p_token_hash, p_user_id, p_created_at, p_authenticated_at, p_last_seen_at,
        p_idle_expires_at, p_absolute_expires_at, p_rotated_at, p_version, p_sealed,
        p_expires_at);
      o_status := 'inserted';
    END
    $fn$;`;
}

/**
 * deleteByUser(): the user's lock, then the DELETE, whose fresh snapshot includes every
 * replacement committed by an insert that held the lock before it.
 */
function deleteUserSessionsFunction({ sessions, deleteUserSessions }: TableNames): string {
  return `
    CREATE OR REPLACE FUNCTION ${deleteUserSessions} (p_user_id text, p_except text)
    RETURNS SETOF text LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
    BEGIN${FUNCTION_PROLOGUE}
      PERFORM pg_advisory_xact_lock(${USER_LOCK_CLASS}, hashtext(p_user_id));
      RETURN QUERY
        DELETE FROM ${sessions}
        WHERE user_id = p_user_id AND (p_except IS NULL OR id <> p_except)
        RETURNING id;
    END
    $fn$;`;
}

/**
 * deleteAll(): one window of `p_limit` ids after the cursor, in primary-key order, so that each
 * call reads a bounded number of rows however few of them match (no index on created_at: it
 * would cost every write, and building it would lock a large table during the migration).
 */
function deleteAllSessionsFunction({ sessions, deleteAllSessions }: TableNames): string {
  const inWindow = `(p_cursor IS NULL OR id > p_cursor) AND id <= v_last
          AND created_at < p_created_before`;
  return `
    CREATE OR REPLACE FUNCTION ${deleteAllSessions} (
      p_created_before bigint, p_limit integer, p_cursor text,
      OUT o_deleted text[], OUT o_cursor text
    ) LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $fn$
    DECLARE
      v_last text;
      v_scanned integer;
      v_blocked text;
    BEGIN${FUNCTION_PROLOGUE}
      o_deleted := '{}';
      IF p_cursor IS NULL THEN
        SELECT max(id), count(*) INTO v_last, v_scanned
          FROM (SELECT id FROM ${sessions} ORDER BY id LIMIT p_limit) AS w;
      ELSE
        SELECT max(id), count(*) INTO v_last, v_scanned
          FROM (SELECT id FROM ${sessions} WHERE id > p_cursor ORDER BY id LIMIT p_limit) AS w;
      END IF;
      o_cursor := CASE WHEN v_scanned < p_limit THEN NULL ELSE v_last END;
      IF v_scanned = 0 THEN
        RETURN;
      END IF;
      LOOP
        -- Rows a concurrent write holds are skipped, so that this never waits on a row while
        -- holding others (a revocation or login locking the same rows in another order would
        -- deadlock with it).
        WITH deleted AS (
          DELETE FROM ${sessions} WHERE id IN (
            -- Sessions inserted into the window meanwhile (a regeneration keeps createdAt under a
            -- new id) can outnumber it: never more than p_limit per call; a later pass takes them.
            SELECT id FROM ${sessions} WHERE ${inWindow}
            ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED
          ) RETURNING id
        )
        SELECT coalesce(array_agg(id), '{}') INTO o_deleted FROM deleted;
        EXIT WHEN cardinality(o_deleted) > 0;
        -- Nothing deleted, but a skipped row may remain: the manager stops at the first pass
        -- that deletes nothing, so wait for one such row instead, holding no other lock.
        SELECT id INTO v_blocked FROM ${sessions} WHERE ${inWindow} ORDER BY id LIMIT 1;
        EXIT WHEN NOT FOUND;
        WITH deleted AS (
          DELETE FROM ${sessions} WHERE id = v_blocked AND created_at < p_created_before
          RETURNING id
        )
        SELECT coalesce(array_agg(id), '{}') INTO o_deleted FROM deleted;
        EXIT WHEN cardinality(o_deleted) > 0;
      END LOOP;
    END
    $fn$;`;
}

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
 * Every method returns a promise that rejects on a database error (a duplicate id on insert
 * included); none throws synchronously. Invalid options throw a `ConfigError` listing every
 * problem. A connection error (refused, reset, timed out, authentication, database shut down)
 * is reported once per outage as a process warning (`STRONGROOM_POSTGRES_CONNECTION`) that
 * gives the cause's code and message, never the connection string's password, and never
 * crashes the process.
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
  const {
    connectionString,
    pool: callerPool,
    schema,
    tablePrefix,
    ...resolved
  } = resolveOptions(options);
  const { purgeIntervalSeconds, purgeBatchSize, now } = resolved;

  const ownsPool = callerPool === undefined;
  const pool =
    callerPool ??
    new pg.Pool({
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

  const tables: TableNames = {
    schema,
    prefix: tablePrefix,
    sessions: `${quote(schema)}.${quote(`${tablePrefix}sessions`)}`,
    retired: `${quote(schema)}.${quote(`${tablePrefix}retired_tokens`)}`,
    versions: `${quote(schema)}.${quote(`${tablePrefix}schema_version`)}`,
    insertSession: `${quote(schema)}.${quote(`${tablePrefix}insert_session`)}`,
    deleteUserSessions: `${quote(schema)}.${quote(`${tablePrefix}delete_user_sessions`)}`,
    deleteAllSessions: `${quote(schema)}.${quote(`${tablePrefix}delete_all_sessions`)}`,
  };
  const { sessions, retired } = tables;
  const columns = (alias: string): string => SESSION_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

  const statements = {
    findByTokenHash: prepare(
      `SELECT ${columns('s')}, NULL::bigint AS retired_grace_until, 0 AS precedence
         FROM ${sessions} AS s WHERE s.token_hash = $1
       UNION ALL
       SELECT ${columns('s')}, r.grace_until, 1
         FROM ${retired} AS r JOIN ${sessions} AS s ON s.id = r.session_id
         WHERE r.token_hash = $1
       ORDER BY precedence LIMIT 1`,
    ),
    findById: prepare(`SELECT ${columns('s')} FROM ${sessions} AS s WHERE s.id = $1`),
    // One statement calling a function (see insertSessionFunction): one round trip, and
    // atomic: a duplicate id or token hash rolls the deletions back too.
    insert: prepare(
      `SELECT o_status AS status, o_evicted AS evicted FROM ${tables.insertSession}(
         $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    ),
    // Compare-and-set on the version, then the retired token, inserted only when the update
    // matched. A token hash is retired once: a duplicate is a unique violation that rolls the
    // whole statement back.
    update: prepare(
      `WITH updated AS (
         UPDATE ${sessions} SET token_hash = $2, user_id = $3, created_at = $4,
           authenticated_at = $5, last_seen_at = $6, idle_expires_at = $7,
           absolute_expires_at = $8, rotated_at = $9, version = $10, sealed = $11,
           expires_at = $12
         WHERE id = $1 AND version = $13
         RETURNING id, absolute_expires_at
       ), retired AS (
         INSERT INTO ${retired} (token_hash, session_id, grace_until, expires_at)
         SELECT $14::text, id, $15::bigint, absolute_expires_at FROM updated
         WHERE $14::text IS NOT NULL
       )
       SELECT count(*)::integer AS updated FROM updated`,
    ),
    delete: prepare(`DELETE FROM ${sessions} WHERE id = $1`),
    deleteByUser: prepare(`SELECT d.id FROM ${tables.deleteUserSessions}($1, $2) AS d (id)`),
    deleteAll: prepare(
      `SELECT o_deleted AS deleted, o_cursor AS cursor FROM ${tables.deleteAllSessions}($1, $2, $3)`,
    ),
    listByUser: prepare(
      `SELECT ${columns('s')} FROM ${sessions} AS s
       WHERE s.user_id = $1 AND s.expires_at > $2 ORDER BY s.created_at, s.id`,
    ),
    // Bounded batches. SKIP LOCKED lets several instances sweep at once without waiting on each
    // other; the outer re-check keeps a row that a concurrent write has just extended.
    purge: prepare(
      `WITH expired AS (
         DELETE FROM ${sessions} WHERE id IN (
           SELECT id FROM ${sessions} WHERE expires_at <= $1
           ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
         ) AND expires_at <= $1
         RETURNING id
       ), stale AS (
         DELETE FROM ${retired} WHERE token_hash IN (
           SELECT token_hash FROM ${retired} WHERE expires_at <= $1
           LIMIT $2 FOR UPDATE SKIP LOCKED
         ) AND expires_at <= $1
         RETURNING token_hash
       )
       SELECT (SELECT count(*) FROM expired)::integer AS sessions,
              (SELECT count(*) FROM stale)::integer AS retired`,
    ),
  };

  let closed = false;
  let closing: Promise<void> | undefined;
  let schemaDone = false;
  let schemaPending: Promise<void> | undefined;
  let warned = false;
  let sweeping: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  /**
   * One warning per outage: reset by the next query that succeeds. `%s` in the message becomes
   * the cause's code and message, with any password masked.
   */
  function warnOnce(message: string, error: unknown): void {
    if (warned) return;
    warned = true;
    process.emitWarning(
      `The Strongroom PostgreSQL session store ${message.replace('%s', summarizeError(error))}`,
      {
        type: 'StrongroomWarning',
        code: 'STRONGROOM_POSTGRES_CONNECTION',
      },
    );
  }

  // Without a listener, an idle connection dropped by the server (restart, failover, network)
  // makes the pool emit an unhandled 'error' that would crash the process.
  const onPoolError = (error: Error): void =>
    warnOnce(
      'lost a connection (%s). Session calls fail (503) until the database answers again; ' +
        'this warning is not repeated before then.',
      error,
    );
  pool.on('error', onPoolError);

  function ensureSchema(): Promise<void> {
    schemaPending ??= migrate(pool, tables).then(
      () => {
        schemaDone = true;
      },
      (error: unknown) => {
        schemaPending = undefined;
        throw error;
      },
    );
    return schemaPending;
  }

  async function query<R extends QueryResultRow>(
    statement: Statement,
    values: readonly unknown[],
  ): Promise<QueryResult<R>> {
    if (closed) throw new Error('The PostgreSQL session store is closed');
    const config: QueryConfig & { query_timeout: number } = {
      name: statement.name,
      text: statement.text,
      values: values as unknown[],
      query_timeout: QUERY_TIMEOUT_MS,
    };
    let result: QueryResult<R>;
    try {
      if (!schemaDone) await ensureSchema();
      result = await pool.query<R>(config);
    } catch (error) {
      if (isOutage(error)) {
        warnOnce(
          'cannot reach the database (%s). Session calls fail (503) until it answers again; ' +
            'this warning is not repeated before then.',
          error,
        );
      }
      throw error;
    }
    warned = false;
    return result;
  }

  async function purgeBatch(
    at: number,
    limit: number,
  ): Promise<{ sessions: number; retired: number }> {
    const { rows } = await query<{ sessions: Integer; retired: Integer }>(statements.purge, [
      at,
      limit,
    ]);
    const row = rows[0];
    return {
      sessions: row === undefined ? 0 : toInteger(row.sessions),
      retired: row === undefined ? 0 : toInteger(row.retired),
    };
  }

  async function sweep(): Promise<void> {
    try {
      while (!closed) {
        const result = await purgeBatch(now(), purgeBatchSize);
        if (result.sessions < purgeBatchSize && result.retired < purgeBatchSize) return;
      }
    } catch (error) {
      // Retried at the next interval. Nothing unsafe is left behind meanwhile: the manager
      // checks every deadline itself and never serves an expired session.
      if (!closed) {
        warnOnce('could not purge expired sessions (%s); the sweep tries again later.', error);
      }
    }
  }

  if (purgeIntervalSeconds > 0) {
    timer = setInterval(() => {
      if (sweeping !== undefined || closed) return;
      sweeping = sweep().finally(() => {
        sweeping = undefined;
      });
    }, purgeIntervalSeconds * 1_000);
    timer.unref();
  }

  return {
    async ready(): Promise<void> {
      if (closed) throw new Error('The PostgreSQL session store is closed');
      await ensureSchema();
    },

    async findByTokenHash(tokenHash: string): Promise<TokenMatch | null> {
      const { rows } = await query<TokenMatchRow>(statements.findByTokenHash, [tokenHash]);
      const row = rows[0];
      if (row === undefined) return null;
      return {
        session: fromRow(row),
        retiredGraceUntil:
          row.retired_grace_until === null ? null : toInteger(row.retired_grace_until),
      };
    },

    async findById(id: string): Promise<StoredSession | null> {
      const { rows } = await query<SessionRow>(statements.findById, [id]);
      const row = rows[0];
      return row === undefined ? null : fromRow(row);
    },

    async insert(
      session: StoredSession,
      { replaces, limit }: InsertOptions,
    ): Promise<InsertResult> {
      // The limit counts a user's sessions; an anonymous session has no peers to count.
      const cap = session.userId === null ? null : limit;
      const { rows } = await query<InsertRow>(statements.insert, [
        ...sessionParameters(session),
        replaces?.id ?? null,
        replaces?.version ?? null,
        cap?.max ?? null,
        cap?.policy ?? null,
        cap?.now ?? null,
      ]);
      return toInsertResult(rows[0]);
    },

    async update(
      session: StoredSession,
      { retire }: { readonly retire: RetiredToken | null },
    ): Promise<boolean> {
      const { rows } = await query<{ updated: Integer }>(statements.update, [
        ...sessionParameters(session),
        session.version - 1,
        retire?.tokenHash ?? null,
        retire?.graceUntil ?? null,
      ]);
      const row = rows[0];
      return row !== undefined && toInteger(row.updated) > 0;
    },

    async delete(id: string): Promise<boolean> {
      const { rowCount } = await query(statements.delete, [id]);
      return (rowCount ?? 0) > 0;
    },

    async deleteByUser(
      userId: string,
      { except }: { readonly except: string | null },
    ): Promise<string[]> {
      const { rows } = await query<{ id: string }>(statements.deleteByUser, [userId, except]);
      return rows.map((row) => row.id);
    },

    async deleteAll({ createdBefore, limit, cursor }: DeleteAllOptions): Promise<DeleteAllResult> {
      // Rejected rather than clamped to nothing: a revoke-all that silently deleted nothing
      // would leave an incident open.
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new RangeError('deleteAll needs a positive integer limit');
      }
      const { rows } = await query<{ deleted: string[] | null; cursor: string | null }>(
        statements.deleteAll,
        [createdBefore, Math.min(limit, MAX_LIMIT), cursor],
      );
      const row = rows[0];
      return { deleted: row?.deleted ?? [], cursor: row?.cursor ?? null };
    },

    async listByUser(userId: string, at: number): Promise<StoredSession[]> {
      const { rows } = await query<SessionRow>(statements.listByUser, [userId, at]);
      return rows.map(fromRow);
    },

    async purgeExpired(at: number, limit: number): Promise<number> {
      if (closed) throw new Error('The PostgreSQL session store is closed');
      // PostgreSQL rejects a negative LIMIT; NaN and fractions are the caller's mistake too.
      if (!(limit >= 1)) return 0;
      return (await purgeBatch(at, Math.min(Math.floor(limit), MAX_LIMIT))).sessions;
    },

    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        clearInterval(timer);
        await sweeping;
        if (ownsPool) {
          await pool.end();
        } else {
          pool.off('error', onPoolError);
        }
      })();
      return closing;
    },
  };
}

interface ResolvedOptions {
  readonly connectionString: string;
  readonly pool: Pool | undefined;
  readonly schema: string;
  readonly tablePrefix: string;
  readonly purgeIntervalSeconds: number;
  readonly purgeBatchSize: number;
  readonly now: () => number;
}

function resolveOptions(options: PostgresStoreOptions): ResolvedOptions {
  const problems: ConfigProblem[] = [];
  const { connectionString, pool } = options as { connectionString?: unknown; pool?: unknown };
  const schema = options.schema ?? 'public';
  const tablePrefix = options.tablePrefix ?? 'strongroom_';
  const purgeIntervalSeconds = options.purgeIntervalSeconds ?? 60;
  const purgeBatchSize = options.purgeBatchSize ?? 500;

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
  if (!Number.isSafeInteger(purgeIntervalSeconds) || purgeIntervalSeconds < 0) {
    problems.push({
      path: 'purgeIntervalSeconds',
      message: 'must be a whole number of seconds, or 0 to turn the sweep off',
    });
  } else if (purgeIntervalSeconds * 1_000 > MAX_LIMIT) {
    problems.push({ path: 'purgeIntervalSeconds', message: 'must be at most 24 days' });
  }
  if (!Number.isSafeInteger(purgeBatchSize) || purgeBatchSize < 1 || purgeBatchSize > MAX_LIMIT) {
    problems.push({ path: 'purgeBatchSize', message: 'must be a positive integer' });
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    problems.push({ path: 'now', message: 'must be a function returning milliseconds' });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    connectionString: typeof connectionString === 'string' ? connectionString : '',
    pool: isOpenPool(pool) ? pool : undefined,
    schema,
    tablePrefix,
    purgeIntervalSeconds,
    purgeBatchSize,
    now: options.now ?? (() => Date.now()),
  };
}

function isIdentifier(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length <= maxLength && IDENTIFIER_PATTERN.test(value);
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

/**
 * SQLSTATE classes of a database that is down, refuses this client or is out of resources:
 * connection exception, invalid authorization, invalid catalog name (no such database),
 * insufficient resources, operator intervention (shutdown, restart).
 */
const OUTAGE_CLASSES = new Set(['08', '28', '3D', '53', '57']);

/**
 * Whether a failed query means the database cannot be used at all, rather than that this one
 * statement failed (a duplicate id, a serialization failure): a socket error of Node
 * (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, `ENOTFOUND`, …), one of pg's own connection
 * errors (`Connection terminated unexpectedly`, `timeout exceeded when trying to connect`,
 * `Query read timeout`; no code), or an outage class of SQLSTATE.
 */
function isOutage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return OUTAGE_CLASSES.has(code.slice(0, 2));
  }
  if (typeof code === 'string') return /^E[A-Z_]+$/.test(code);
  return (
    error instanceof Error && /\b(connect|connection|timeout|terminated)\b/i.test(error.message)
  );
}

/** Identifiers are validated against IDENTIFIER_PATTERN first, so they never contain a quote. */
function quote(identifier: string): string {
  return `"${identifier}"`;
}

/**
 * A named prepared statement. The name is derived from the text, so that stores with other
 * tables (or another release) sharing a pool never collide on a connection's statement names.
 */
function prepare(text: string): Statement {
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 24);
  return { name: `strongroom_${digest}`, text };
}

/**
 * Creates or migrates the tables in one transaction, under a transaction-scoped advisory lock
 * keyed by the schema: a second instance starting at the same moment waits, then finds the
 * schema at the latest version and does nothing.
 */
async function migrate(pool: Pool, tables: TableNames): Promise<void> {
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

/** Reads an integer column exactly, whatever type parser the pool uses for int8. */
function toInteger(value: Integer): number {
  const number =
    typeof value === 'string' && /^-?\d+$/.test(value)
      ? Number(value)
      : typeof value === 'number' || typeof value === 'bigint'
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(number)) {
    throw new Error('The PostgreSQL session store read an integer outside the safe range');
  }
  return number;
}

function fromRow(row: SessionRow): StoredSession {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: toInteger(row.created_at),
    authenticatedAt: row.authenticated_at === null ? null : toInteger(row.authenticated_at),
    lastSeenAt: toInteger(row.last_seen_at),
    idleExpiresAt: toInteger(row.idle_expires_at),
    absoluteExpiresAt: toInteger(row.absolute_expires_at),
    rotatedAt: toInteger(row.rotated_at),
    version: toInteger(row.version),
    sealed: row.sealed,
  };
}

function toInsertResult(row: InsertRow | undefined): InsertResult {
  switch (row?.status) {
    case 'inserted':
      return { status: 'inserted', evicted: row.evicted ?? [] };
    case 'conflict':
      return { status: 'conflict' };
    case 'limit-reached':
      return { status: 'limit-reached' };
    default:
      throw new Error('The PostgreSQL session store got no outcome from its insert function');
  }
}

/** $1..$12 of the insert and update statements, in column order. */
function sessionParameters(session: StoredSession): unknown[] {
  return [
    session.id,
    session.tokenHash,
    session.userId,
    session.createdAt,
    session.authenticatedAt,
    session.lastSeenAt,
    session.idleExpiresAt,
    session.absoluteExpiresAt,
    session.rotatedAt,
    session.version,
    session.sealed,
    expiresAt(session),
  ];
}
