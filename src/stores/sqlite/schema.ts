import type Database from 'better-sqlite3';

/** Creates the tables and indexes when missing: idempotent, so every start runs it. */
export function createSchema(db: Database.Database, prefix: string): void {
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
