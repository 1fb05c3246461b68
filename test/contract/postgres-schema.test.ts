/**
 * The PostgreSQL store (needs a server on 127.0.0.1:5432): its tables, created lazily,
 * migrated from earlier releases, safe when several instances start at once.
 */
import { describe, expect, it } from 'vitest';
import { HOUR, NOW, makeSession, randomId } from '../../src/testing/store-contract-support.js';
import { serviceAvailable } from '../support/services.js';
import { PG_PORT, RoundTripCounter, usePostgresFixture } from './postgres-support.js';

const LATEST_VERSIONS = [1, 2];
const LATEST_FUNCTIONS = [
  'strongroom_delete_all_sessions',
  'strongroom_delete_user_sessions',
  'strongroom_insert_session',
];

/**
 * The tables exactly as release 0.1 (schema version 1) created them, frozen here so that the
 * migration to the current version is tested from what is really deployed.
 */
function schemaVersion1(schema: string): string {
  const s = `"${schema}"`;
  return `
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.strongroom_schema_version (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE ${s}.strongroom_sessions (
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
    CREATE INDEX strongroom_sessions_user_id
      ON ${s}.strongroom_sessions (user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX strongroom_sessions_expires_at ON ${s}.strongroom_sessions (expires_at);
    CREATE TABLE ${s}.strongroom_retired_tokens (
      token_hash text PRIMARY KEY,
      session_id text NOT NULL REFERENCES ${s}.strongroom_sessions (id) ON DELETE CASCADE,
      grace_until bigint NOT NULL,
      expires_at bigint NOT NULL
    );
    CREATE INDEX strongroom_retired_tokens_session_id
      ON ${s}.strongroom_retired_tokens (session_id);
    CREATE INDEX strongroom_retired_tokens_expires_at
      ON ${s}.strongroom_retired_tokens (expires_at);
    INSERT INTO ${s}.strongroom_schema_version (version) VALUES (1);
  `;
}

const available = await serviceAvailable('PostgreSQL', PG_PORT);

describe.skipIf(!available)('createPostgresStore', () => {
  const { admin, freshSchema, open, newPool, versionsIn, functionsIn, count } =
    usePostgresFixture();

  describe('schema', () => {
    it('creates the tables, indexes and version record on first use (lazily, before the first query)', async () => {
      const schema = freshSchema();
      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      expect(await store.findById(randomId())).toBeNull();

      const { rows: columns } = await admin.query<{ table: string; column: string; type: string }>(
        `SELECT table_name AS table, column_name AS column, data_type AS type
           FROM information_schema.columns WHERE table_schema = $1
           ORDER BY table_name, ordinal_position`,
        [schema],
      );
      expect(columns.map((c) => `${c.table}.${c.column}:${c.type}`)).toEqual([
        'strongroom_retired_tokens.token_hash:text',
        'strongroom_retired_tokens.session_id:text',
        'strongroom_retired_tokens.grace_until:bigint',
        'strongroom_retired_tokens.expires_at:bigint',
        'strongroom_schema_version.version:integer',
        'strongroom_schema_version.applied_at:timestamp with time zone',
        'strongroom_sessions.id:text',
        'strongroom_sessions.token_hash:text',
        'strongroom_sessions.user_id:text',
        'strongroom_sessions.created_at:bigint',
        'strongroom_sessions.authenticated_at:bigint',
        'strongroom_sessions.last_seen_at:bigint',
        'strongroom_sessions.idle_expires_at:bigint',
        'strongroom_sessions.absolute_expires_at:bigint',
        'strongroom_sessions.rotated_at:bigint',
        'strongroom_sessions.expires_at:bigint',
        'strongroom_sessions.version:integer',
        'strongroom_sessions.sealed:text',
      ]);

      const { rows: indexes } = await admin.query<{ name: string }>(
        'SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
        [schema],
      );
      expect(indexes.map((index) => index.name)).toEqual([
        'strongroom_retired_tokens_expires_at',
        'strongroom_retired_tokens_pkey',
        'strongroom_retired_tokens_session_id',
        'strongroom_schema_version_pkey',
        'strongroom_sessions_expires_at',
        'strongroom_sessions_pkey',
        'strongroom_sessions_token_hash_key',
        'strongroom_sessions_user_id',
      ]);

      const { rows: foreignKeys } = await admin.query<{ action: string }>(
        `SELECT confdeltype AS action FROM pg_constraint
           WHERE contype = 'f' AND connamespace = $1::regnamespace`,
        [schema],
      );
      expect(foreignKeys).toEqual([{ action: 'c' }]); // ON DELETE CASCADE
      expect(await functionsIn(schema)).toEqual(LATEST_FUNCTIONS);
      expect(await versionsIn(schema)).toEqual(LATEST_VERSIONS);
    });

    it('migrates tables an earlier release created at schema version 1, keeping their sessions', async () => {
      const schema = freshSchema();
      await admin.query(schemaVersion1(schema));
      const old = makeSession({ userId: 'user', lastSeenAt: NOW - HOUR });
      await admin.query(
        `INSERT INTO "${schema}".strongroom_sessions
           (id, token_hash, user_id, created_at, authenticated_at, last_seen_at, idle_expires_at,
            absolute_expires_at, rotated_at, expires_at, version, sealed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7, $10, $11)`,
        [
          old.id,
          old.tokenHash,
          old.userId,
          old.createdAt,
          old.authenticatedAt,
          old.lastSeenAt,
          old.idleExpiresAt,
          old.absoluteExpiresAt,
          old.rotatedAt,
          old.version,
          old.sealed,
        ],
      );

      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      await store.ready();
      expect(await versionsIn(schema)).toEqual(LATEST_VERSIONS);
      expect(await functionsIn(schema)).toEqual(LATEST_FUNCTIONS);
      expect(await store.findById(old.id)).toEqual(old);

      // The migrated session counts towards the limit and is the one evicted.
      const fresh = makeSession({ userId: 'user' });
      expect(
        await store.insert(fresh, {
          replaces: null,
          limit: { max: 1, policy: 'evict-oldest', now: NOW },
        }),
      ).toEqual({ status: 'inserted', evicted: [old.id] });
      expect(await store.listByUser('user', NOW)).toEqual([fresh]);
    });

    it('is idempotent: reopening keeps the data and records the version once', async () => {
      const schema = freshSchema();
      const first = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      const session = makeSession({ userId: 'user' });
      await first.insert(session, { replaces: null, limit: null });
      await first.ready();
      await first.close();

      const second = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      await second.ready();
      await second.ready();
      expect(await second.findById(session.id)).toEqual(session);
      expect(await versionsIn(schema)).toEqual(LATEST_VERSIONS);
    });

    it('is safe when several instances start at once on a fresh schema', async () => {
      const schema = freshSchema();
      // Separate pools, so that every instance migrates on its own connection, truly at once.
      const instances = Array.from({ length: 6 }, () =>
        open({ pool: newPool({ max: 2 }), schema, purgeIntervalSeconds: 0 }),
      );
      await Promise.all(instances.map((store) => store.ready()));

      expect(await versionsIn(schema)).toEqual(LATEST_VERSIONS);
      const session = makeSession();
      await instances[0]!.insert(session, { replaces: null, limit: null });
      for (const store of instances) expect(await store.findById(session.id)).toEqual(session);
    });

    it('is safe when several instances make their first (lazy) call at once', async () => {
      const schema = freshSchema();
      const instances = Array.from({ length: 4 }, () =>
        open({ pool: newPool({ max: 2 }), schema, tablePrefix: 'lazy_', purgeIntervalSeconds: 0 }),
      );
      const sessions = instances.map(() => makeSession());
      await Promise.all(
        instances.map((store, index) =>
          store.insert(sessions[index]!, { replaces: null, limit: null }),
        ),
      );
      expect(await count(`"${schema}".lazy_sessions`)).toBe(4);
    });

    it('keeps stores with different prefixes in one schema apart', async () => {
      const schema = freshSchema();
      const app = open({ pool: admin, schema, tablePrefix: 'app_', purgeIntervalSeconds: 0 });
      const other = open({ pool: admin, schema, tablePrefix: 'other_', purgeIntervalSeconds: 0 });
      const session = makeSession();
      await app.insert(session, { replaces: null, limit: null });

      expect(await count(`"${schema}".app_sessions`)).toBe(1);
      expect(await other.findById(session.id)).toBeNull();
      expect(await count(`"${schema}".other_sessions`)).toBe(0);
    });

    it('refuses tables migrated by a newer release, with a message that says so', async () => {
      const schema = freshSchema();
      await open({ pool: admin, schema, purgeIntervalSeconds: 0 }).ready();
      await admin.query(`INSERT INTO "${schema}".strongroom_schema_version (version) VALUES (99)`);

      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      await expect(store.ready()).rejects.toThrow(/schema version 99, newer than this release/);
      await expect(store.findById(randomId())).rejects.toThrow(/schema version 99/);
    });

    it('retries the schema after the database was unreachable at start-up', async () => {
      const proxy = new RoundTripCounter();
      await proxy.start();
      const url = proxy.url;
      await proxy.stop();
      const schema = freshSchema();
      const store = open({ connectionString: url, schema, purgeIntervalSeconds: 0 });

      const started = Date.now();
      await expect(store.ready()).rejects.toThrow();
      await expect(store.findById(randomId())).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000);

      await proxy.start();
      try {
        await store.ready();
        expect(await store.findById(randomId())).toBeNull();
      } finally {
        await store.close();
        await proxy.stop();
      }
    });
  });
});
