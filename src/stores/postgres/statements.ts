import { createHash } from 'node:crypto';
import { qualifiedColumns as columns } from '../shared/rows.js';
import type { TableNames } from './names.js';

/** A named prepared statement: parsed once per connection. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/**
 * A named prepared statement. The name is derived from the text, so that stores with other
 * tables (or another release) sharing a pool never collide on a connection's statement names.
 */
function prepare(text: string): Statement {
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 24);
  return { name: `strongroom_${digest}`, text };
}

/** Every statement of the store. */
export type Statements = Lookups & Writes & Sweeps;

interface Lookups {
  readonly findByTokenHash: Statement;
  readonly findById: Statement;
  readonly listByUser: Statement;
}

interface Writes {
  readonly insert: Statement;
  readonly update: Statement;
  readonly delete: Statement;
  readonly deleteByUser: Statement;
}

interface Sweeps {
  readonly deleteAll: Statement;
  readonly purge: Statement;
}

export function createStatements(tables: TableNames): Statements {
  return { ...lookups(tables), ...writes(tables), ...sweeps(tables) };
}

function lookups({ sessions, retired }: TableNames): Lookups {
  return {
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
    listByUser: prepare(
      `SELECT ${columns('s')} FROM ${sessions} AS s
       WHERE s.user_id = $1 AND s.expires_at > $2 ORDER BY s.created_at, s.id`,
    ),
  };
}

function writes({ sessions, retired, insertSession, deleteUserSessions }: TableNames): Writes {
  return {
    // One statement calling a function (see insertSessionFunction): one round trip, and
    // atomic: a duplicate id or token hash rolls the deletions back too.
    insert: prepare(
      `SELECT o_status AS status, o_evicted AS evicted FROM ${insertSession}(
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
    deleteByUser: prepare(`SELECT d.id FROM ${deleteUserSessions}($1, $2) AS d (id)`),
  };
}

function sweeps({ sessions, retired, deleteAllSessions }: TableNames): Sweeps {
  return {
    deleteAll: prepare(
      `SELECT o_deleted AS deleted, o_cursor AS cursor FROM ${deleteAllSessions}($1, $2, $3)`,
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
}
