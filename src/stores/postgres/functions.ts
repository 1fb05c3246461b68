import { SESSION_COLUMNS } from '../shared/rows.js';
import type { TableNames } from './names.js';

/**
 * First key of the two-key, transaction-scoped advisory lock on one user's sessions ("SU" in
 * ASCII); the second is `hashtext(user_id)`. Baked into the functions of schema version 2:
 * changing it takes a migration that re-creates them.
 */
const USER_LOCK_CLASS = 0x5355;

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
 * The three builders below are schema version 2, like the MIGRATIONS entry (migrations.ts) that calls them:
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
export function insertSessionFunction({ sessions, insertSession }: TableNames): string {
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
export function deleteUserSessionsFunction({ sessions, deleteUserSessions }: TableNames): string {
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
export function deleteAllSessionsFunction({ sessions, deleteAllSessions }: TableNames): string {
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
