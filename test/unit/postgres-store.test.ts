import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { QueryConfig } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';
import { ConfigError, StoreUnavailableError } from '../../src/core/errors.js';
import type { SessionEvent } from '../../src/core/events.js';
import { createSessionManager } from '../../src/index.js';
import type {
  DeleteAllResult,
  InsertResult,
  SessionStore,
  StoredSession,
} from '../../src/core/store.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import type { PostgresStore, PostgresStoreOptions } from '../../src/stores/postgres.js';
import { serviceAvailable } from '../support/services.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { OutageProxy } from '../support/tcp-proxy.js';

const PG_PORT = 5432;
const PG_USER = process.env.PGUSER ?? 'postgres';
const PG_DATABASE = process.env.PGDATABASE ?? 'test';
const DIRECT_URL = `postgres://${PG_USER}@127.0.0.1:${PG_PORT}/${PG_DATABASE}`;
const available = await serviceAvailable('PostgreSQL', PG_PORT);

const NOW = Date.UTC(2100, 0, 1);
const LATEST_VERSIONS = [1, 2];
const LATEST_FUNCTIONS = [
  'strongroom_delete_all_sessions',
  'strongroom_delete_user_sessions',
  'strongroom_insert_session',
];
const HOUR = 3_600_000;

/** PostgreSQL protocol codes of the untyped requests a client may send before its startup message. */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * A TCP relay to PostgreSQL that reads the frontend protocol and counts round trips: every
 * extended-protocol exchange ends with one Sync ('S') message, every simple query is one Query
 * ('Q') message, and the client waits for the server's ReadyForQuery after each. Counting them
 * counts exactly how many times a call waits on the network.
 */
class RoundTripCounter {
  readonly proxy = new OutageProxy(PG_PORT, () => this.#parser());
  roundTrips = 0;

  #parser(): (chunk: Buffer) => void {
    let buffer = Buffer.alloc(0);
    let started = false;
    return (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 8) break;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) break;
          const code = buffer.readInt32BE(4);
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) started = true;
          buffer = buffer.subarray(length);
        } else {
          if (buffer.length < 5) break;
          const length = buffer.readInt32BE(1) + 1;
          if (buffer.length < length) break;
          const type = String.fromCharCode(buffer[0]!);
          if (type === 'S' || type === 'Q') this.roundTrips++;
          buffer = buffer.subarray(length);
        }
      }
    };
  }

  get url(): string {
    return `postgres://${PG_USER}@127.0.0.1:${this.proxy.port}/${PG_DATABASE}`;
  }

  start(): Promise<void> {
    return this.proxy.start();
  }

  stop(): Promise<void> {
    return this.proxy.stop();
  }

  /** How many round trips `call` made. */
  async count(call: () => Promise<unknown>): Promise<number> {
    const before = this.roundTrips;
    await call();
    return this.roundTrips - before;
  }
}

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

function randomId(): string {
  return randomBytes(16).toString('base64url');
}

function randomTokenHash(): string {
  return createHash('sha256').update(randomBytes(32)).digest('base64url');
}

function makeSession(overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    id: randomId(),
    tokenHash: randomTokenHash(),
    userId: null,
    createdAt: NOW - 60_000,
    authenticatedAt: null,
    lastSeenAt: NOW - 60_000,
    idleExpiresAt: NOW + 30 * 60_000,
    absoluteExpiresAt: NOW + 12 * HOUR,
    rotatedAt: NOW - 60_000,
    version: 1,
    sealed: `v1.k1.${randomBytes(48).toString('base64url')}`,
    ...overrides,
  };
}

function next(session: StoredSession, changes: Partial<StoredSession> = {}): StoredSession {
  return { ...session, lastSeenAt: NOW, version: session.version + 1, ...changes };
}

describe.skipIf(!available)('createPostgresStore', () => {
  const admin = new pg.Pool({ connectionString: DIRECT_URL, max: 4 });
  const schemas: string[] = [];
  const stores: SessionStore[] = [];
  const pools: pg.Pool[] = [];

  function freshSchema(): string {
    const schema = `strongroom_unit_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return schema;
  }

  function open(options: PostgresStoreOptions): PostgresStore {
    const store = createPostgresStore(options);
    stores.push(store);
    return store;
  }

  function newPool(config: pg.PoolConfig = {}): pg.Pool {
    const pool = new pg.Pool({ connectionString: DIRECT_URL, max: 4, ...config });
    pool.on('error', () => {});
    pools.push(pool);
    return pool;
  }

  async function versionsIn(schema: string): Promise<number[]> {
    const { rows } = await admin.query<{ version: number }>(
      `SELECT version FROM "${schema}".strongroom_schema_version ORDER BY version`,
    );
    return rows.map((row) => row.version);
  }

  async function functionsIn(schema: string): Promise<string[]> {
    const { rows } = await admin.query<{ name: string }>(
      `SELECT proname AS name FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY proname`,
      [schema],
    );
    return rows.map((row) => row.name);
  }

  async function count(table: string): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0]!.n;
  }

  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
    for (const schema of schemas.splice(0)) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  afterAll(async () => {
    await admin.end();
  });

  describe('options', () => {
    it.each([
      ['schema', ''],
      ['schema', '1abc'],
      ['schema', 'bad-name'],
      ['schema', 'x"; DROP TABLE users; --'],
      ['schema', 'a'.repeat(64)],
      ['tablePrefix', ''],
      ['tablePrefix', 'sp ace'],
      ['tablePrefix', 'x".y'],
      ['tablePrefix', 'a'.repeat(33)],
    ])('rejects %s %j with a ConfigError, before connecting', (option, value) => {
      const connectSpy = vi.spyOn(pg.Pool.prototype, 'connect');
      expect(() => createPostgresStore({ connectionString: DIRECT_URL, [option]: value })).toThrow(
        ConfigError,
      );
      expect(connectSpy).not.toHaveBeenCalled();
    });

    it('accepts the longest valid names', async () => {
      const schema = `s${'a'.repeat(62)}`;
      schemas.push(schema);
      const store = open({
        pool: admin,
        schema,
        tablePrefix: `p${'b'.repeat(31)}`,
        purgeIntervalSeconds: 0,
      });
      await store.ready();
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      expect(await store.findByTokenHash(session.tokenHash)).toEqual({
        session,
        retiredGraceUntil: null,
      });
    });

    it('lists every configuration problem at once', () => {
      const options = {
        connectionString: DIRECT_URL,
        pool: admin,
        schema: '-',
        tablePrefix: '-',
        purgeIntervalSeconds: -1,
        purgeBatchSize: 0,
      } as unknown as PostgresStoreOptions;
      let error: unknown;
      try {
        createPostgresStore(options);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((problem) => problem.path)).toEqual([
        'connectionString',
        'schema',
        'tablePrefix',
        'purgeIntervalSeconds',
        'purgeBatchSize',
      ]);
    });

    it('requires a connection string or a pool, and rejects an ended pool', async () => {
      expect(() => createPostgresStore({} as PostgresStoreOptions)).toThrow(ConfigError);
      expect(() => createPostgresStore({ connectionString: '' })).toThrow(ConfigError);
      const ended = new pg.Pool({ connectionString: DIRECT_URL });
      await ended.end();
      expect(() => createPostgresStore({ pool: ended })).toThrow(ConfigError);
    });
  });

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

  describe('round trips', () => {
    const proxy = new RoundTripCounter();
    beforeAll(() => proxy.start());
    afterAll(() => proxy.stop());

    /** A store behind the counting proxy, its schema ready, and a spy on its pool's queries. */
    async function counted() {
      // One connection, so that "warm" really reuses the statements the cold pass prepared.
      const pool = newPool({ connectionString: proxy.url, max: 1 });
      const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
      await store.ready();
      const queries = vi.spyOn(pool, 'query');
      const measure = async (call: () => Promise<unknown>) => {
        queries.mockClear();
        const roundTrips = await proxy.count(call);
        return { roundTrips, statements: queries.mock.calls.length };
      };
      return { pool, store, queries, measure };
    }

    it('every operation is one statement and one round trip, cold (parse) and warm (prepared)', async () => {
      const { store, measure } = await counted();
      const user = randomId();
      const one = { roundTrips: 1, statements: 1 };
      const limit = (max: number, policy: 'refuse' | 'evict-oldest') => ({ max, policy, now: NOW });

      for (const pass of ['cold', 'warm']) {
        const a = makeSession();
        const b = makeSession({ userId: user });
        let result: InsertResult | undefined;
        expect(await measure(() => store.insert(a, { replaces: null, limit: null })), pass).toEqual(
          one,
        );
        // Login: replaces the anonymous session, under the user's limit.
        expect(
          await measure(
            async () =>
              (result = await store.insert(b, {
                replaces: { id: a.id, version: a.version },
                limit: limit(2, 'refuse'),
              })),
          ),
          pass,
        ).toEqual(one);
        expect(result).toEqual({ status: 'inserted', evicted: [] });
        expect(await measure(() => store.findByTokenHash(b.tokenHash)), pass).toEqual(one);
        expect(await measure(() => store.findByTokenHash(randomTokenHash())), pass).toEqual(one);
        expect(await measure(() => store.findById(b.id)), pass).toEqual(one);

        const rotated = next(b, { tokenHash: randomTokenHash() });
        const retire = { tokenHash: b.tokenHash, graceUntil: NOW + 30_000 };
        let updated: boolean | undefined;
        expect(
          await measure(async () => (updated = await store.update(rotated, { retire }))),
          pass,
        ).toEqual(one);
        expect(updated).toBe(true);
        expect(
          await measure(
            async () => (updated = await store.update(next(rotated), { retire: null })),
          ),
          pass,
        ).toEqual(one);
        expect(updated).toBe(true);
        expect(
          await measure(async () => (updated = await store.update(rotated, { retire: null }))),
          pass,
        ).toEqual(one);
        expect(updated).toBe(false);
        expect(await measure(() => store.findByTokenHash(b.tokenHash)), pass).toEqual(one);

        // Every outcome of an insert: a second login evicting the first, one refused, one
        // replacing a session that has moved on.
        const c = makeSession({ userId: user });
        expect(
          await measure(
            async () =>
              (result = await store.insert(c, { replaces: null, limit: limit(1, 'evict-oldest') })),
          ),
          pass,
        ).toEqual(one);
        expect(result).toEqual({ status: 'inserted', evicted: [b.id] });
        expect(
          await measure(
            async () =>
              (result = await store.insert(makeSession({ userId: user }), {
                replaces: null,
                limit: limit(1, 'refuse'),
              })),
          ),
          pass,
        ).toEqual(one);
        expect(result).toEqual({ status: 'limit-reached' });
        expect(
          await measure(
            async () =>
              (result = await store.insert(makeSession({ userId: user }), {
                replaces: { id: c.id, version: c.version + 1 },
                limit: null,
              })),
          ),
          pass,
        ).toEqual(one);
        expect(result).toEqual({ status: 'conflict' });

        expect(await measure(() => store.listByUser(user, NOW)), pass).toEqual(one);
        expect(await measure(() => store.deleteByUser(user, { except: null })), pass).toEqual(one);
        expect(await measure(() => store.delete(randomId())), pass).toEqual(one);
        expect(await measure(() => store.purgeExpired(NOW, 100)), pass).toEqual(one);
        await store.insert(makeSession(), { replaces: null, limit: null });
        let batch: DeleteAllResult | undefined;
        expect(
          await measure(
            async () =>
              (batch = await store.deleteAll({ createdBefore: NOW, limit: 100, cursor: null })),
          ),
          pass,
        ).toEqual(one);
        expect(batch).toEqual({ deleted: [expect.any(String)], cursor: null });
      }
    });

    it('uses named prepared statements, one name per distinct text', async () => {
      const { store, queries } = await counted();
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      await store.findByTokenHash(session.tokenHash);
      await store.findByTokenHash(randomTokenHash());
      await store.findById(session.id);

      const configs = queries.mock.calls.map(([config]) => config as unknown as QueryConfig);
      expect(configs.map((config) => config.name)).toEqual([
        expect.stringMatching(/^strongroom_[0-9a-f]{24}$/),
        expect.stringMatching(/^strongroom_[0-9a-f]{24}$/),
        configs[1]!.name,
        expect.stringMatching(/^strongroom_[0-9a-f]{24}$/),
      ]);
      expect(new Set(configs.map((config) => config.name)).size).toBe(3);
    });

    it('finds a token with index scans only (the hot path never reads a whole table)', async () => {
      const { store, queries } = await counted();
      await store.findByTokenHash(randomTokenHash());
      const { text } = queries.mock.calls[0]![0] as unknown as QueryConfig;

      const client = await admin.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL enable_seqscan = off');
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN ${text.replaceAll('$1', "'x'")}`,
        );
        await client.query('ROLLBACK');
        const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
        expect(plan).toMatch(/Index (Only )?Scan/);
        expect(plan).not.toMatch(/Seq Scan/);
      } finally {
        client.release();
      }
    });
  });

  describe('atomicity under concurrency (READ COMMITTED)', () => {
    const PARALLEL = 30;

    /** A store on a pool wide enough for every call of a round to run on its own connection. */
    async function wide(): Promise<{ store: PostgresStore; pool: pg.Pool; schema: string }> {
      const pool = newPool({ max: PARALLEL + 1 });
      const schema = freshSchema();
      const store = open({ pool, schema, purgeIntervalSeconds: 0 });
      await store.ready();
      // Open every connection now, so that a round's calls start together rather than one
      // connection handshake apart.
      const clients = await Promise.all(Array.from({ length: PARALLEL + 1 }, () => pool.connect()));
      for (const client of clients) client.release();
      return { store, pool, schema };
    }

    async function insertAll(store: SessionStore, sessions: StoredSession[]): Promise<void> {
      for (const session of sessions) await store.insert(session, { replaces: null, limit: null });
    }

    /** Resolves once a statement on `schema` waits for a lock held by another transaction. */
    async function untilWaiting(schema: string): Promise<void> {
      await vi.waitFor(
        async () => {
          const { rows } = await admin.query(
            `SELECT 1 FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0`,
            [schema],
          );
          expect(rows).toHaveLength(1);
        },
        { timeout: 3_000, interval: 10 },
      );
    }

    it('[SM-31] a revocation that waits on a replacement in flight deletes the replacement too', async () => {
      const { store, pool, schema } = await wide();
      const user = randomId();
      const old = makeSession({ userId: user });
      await insertAll(store, [old]);

      // The regenerate's insert runs in a transaction left open: it has replaced the session
      // (holding the user's lock and the old row) but not committed yet.
      const client = await pool.connect();
      try {
        const inOpenTransaction = async (config: QueryConfig): Promise<pg.QueryResult> => {
          await client.query('BEGIN');
          return client.query(config);
        };
        const query = vi.spyOn(pool, 'query') as unknown as MockInstance<
          (config: QueryConfig) => Promise<pg.QueryResult>
        >;
        query.mockImplementationOnce(inOpenTransaction);
        const replacement = makeSession({ userId: user });
        expect(
          await store.insert(replacement, {
            replaces: { id: old.id, version: old.version },
            limit: null,
          }),
        ).toEqual({ status: 'inserted', evicted: [] });

        const revoking = store.deleteByUser(user, { except: null });
        await untilWaiting(schema);
        await client.query('COMMIT');

        // A lone DELETE would have waited on the old row, found it gone, and never seen the
        // replacement, committed after its snapshot was taken.
        expect(await revoking).toEqual([replacement.id]);
        expect(await store.findById(replacement.id)).toBeNull();
        expect(await store.listByUser(user, NOW)).toEqual([]);
      } finally {
        client.release();
      }
    });

    it(`[SM-31] ${PARALLEL} parallel regenerations racing a revocation leave no session of the user`, async () => {
      const { store, schema } = await wide();
      for (let round = 0; round < 5; round++) {
        const user = randomId();
        const sessions = Array.from({ length: PARALLEL }, () => makeSession({ userId: user }));
        await insertAll(store, sessions);
        const replacements = sessions.map(() => makeSession({ userId: user }));

        const regenerate = (index: number): Promise<InsertResult> =>
          store.insert(replacements[index]!, {
            replaces: { id: sessions[index]!.id, version: sessions[index]!.version },
            limit: null,
          });
        const half = PARALLEL / 2;
        const first = Array.from({ length: half }, (_, index) => regenerate(index));
        const revoked = store.deleteByUser(user, { except: null });
        const second = Array.from({ length: PARALLEL - half }, (_, index) =>
          regenerate(half + index),
        );
        const [results, deleted] = await Promise.all([Promise.all([...first, ...second]), revoked]);

        expect(await store.listByUser(user, NOW), `round ${round}`).toEqual([]);
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}".strongroom_sessions WHERE user_id = $1`,
          [user],
        );
        expect(rows[0]!.n, `round ${round}`).toBe(0);
        // Each session was either revoked as it was, or replaced and then its replacement
        // revoked; a regeneration after the revocation changed nothing.
        results.forEach((result, index) => {
          const expected =
            result.status === 'inserted' ? replacements[index]!.id : sessions[index]!.id;
          expect(result.status).not.toBe('limit-reached');
          expect(deleted).toContain(expected);
        });
        expect(deleted).toHaveLength(PARALLEL);
      }
    });

    it(`[SM-34] ${PARALLEL} parallel logins never take a user past the limit ('refuse')`, async () => {
      const { store } = await wide();
      const user = randomId();
      const existing = [makeSession({ userId: user }), makeSession({ userId: user })];
      // An expired session does not count.
      const expired = makeSession({ userId: user, idleExpiresAt: NOW });
      await insertAll(store, [...existing, expired]);
      const limit = { max: 5, policy: 'refuse', now: NOW } as const;

      const logins = Array.from({ length: PARALLEL }, () => makeSession({ userId: user }));
      const results = await Promise.all(
        logins.map((session) => store.insert(session, { replaces: null, limit })),
      );

      const inserted = logins.filter((_, index) => results[index]!.status === 'inserted');
      expect(inserted).toHaveLength(3);
      expect(results.filter((result) => result.status === 'limit-reached')).toHaveLength(
        PARALLEL - 3,
      );
      for (const result of results) {
        if (result.status === 'inserted') expect(result.evicted).toEqual([]);
      }
      const live = await store.listByUser(user, NOW);
      expect(live.map((session) => session.id).sort()).toEqual(
        [...existing, ...inserted].map((session) => session.id).sort(),
      );
    });

    it(`[SM-34] ${PARALLEL} parallel logins with 'evict-oldest' keep the limit and evict each session once`, async () => {
      const { store } = await wide();
      const user = randomId();
      const existing = Array.from({ length: 3 }, (_, index) =>
        makeSession({ userId: user, lastSeenAt: NOW - HOUR + index }),
      );
      await insertAll(store, existing);
      const limit = { max: 4, policy: 'evict-oldest', now: NOW } as const;

      const logins = Array.from({ length: PARALLEL }, () => makeSession({ userId: user }));
      const results = await Promise.all(
        logins.map((session) => store.insert(session, { replaces: null, limit })),
      );

      const evicted = results.flatMap((result) =>
        result.status === 'inserted' ? result.evicted : [],
      );
      expect(results.every((result) => result.status === 'inserted')).toBe(true);
      expect(new Set(evicted).size).toBe(evicted.length);
      expect(evicted).toHaveLength(existing.length + PARALLEL - limit.max);
      // The sessions from before, least recently used, are the first to go.
      expect(evicted).toEqual(expect.arrayContaining(existing.map((session) => session.id)));
      const live = await store.listByUser(user, NOW);
      expect(live).toHaveLength(limit.max);
      expect([...evicted, ...live.map((session) => session.id)].sort()).toEqual(
        [...existing, ...logins].map((session) => session.id).sort(),
      );
    });

    it('a replaced session that a concurrent write moved on is not replaced (conflict)', async () => {
      const { store } = await wide();
      const user = randomId();
      const session = makeSession({ userId: user });
      await insertAll(store, [session]);
      const written = next(session);

      const [updated, result] = await Promise.all([
        store.update(written, { retire: null }),
        store.insert(makeSession({ userId: user }), {
          replaces: { id: session.id, version: session.version },
          limit: null,
        }),
      ]);
      // Whichever committed first, exactly one of the two took effect.
      expect(result.status).toBe(updated ? 'conflict' : 'inserted');
      expect((await store.listByUser(user, NOW)).length).toBe(1);
    });

    it('deleteAll waits for a row a concurrent write holds instead of leaving it behind', async () => {
      const { store, schema } = await wide();
      const held = makeSession({ createdAt: NOW - HOUR });
      const free = makeSession({ createdAt: NOW - HOUR });
      await insertAll(store, [held, free]);

      const client = await admin.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `SELECT 1 FROM "${schema}".strongroom_sessions WHERE id = $1 FOR UPDATE`,
          [held.id],
        );
        // The first call takes what it can without waiting; the next, with nothing else left
        // to delete, waits rather than report an empty pass while the row still exists.
        const options = { createdBefore: NOW, limit: 10, cursor: null };
        expect(await store.deleteAll(options)).toEqual({ deleted: [free.id], cursor: null });
        const waiting = store.deleteAll(options);
        await untilWaiting(schema);
        await client.query('COMMIT');
        expect(await waiting).toEqual({ deleted: [held.id], cursor: null });
      } finally {
        client.release();
      }
      expect(await store.deleteAll({ createdBefore: NOW, limit: 10, cursor: null })).toEqual({
        deleted: [],
        cursor: null,
      });
    });

    it('deleteAll racing logins, regenerations and revocations neither deadlocks nor leaves a session behind', async () => {
      const { store, schema } = await wide();
      const users = Array.from({ length: 3 }, () => randomId());
      const sessions = users.flatMap((user) =>
        Array.from({ length: 8 }, () => makeSession({ userId: user, createdAt: NOW - HOUR })),
      );
      await insertAll(store, sessions);
      const limit = { max: 4, policy: 'evict-oldest', now: NOW } as const;

      /** Passes until one deletes nothing, as the manager does. */
      const revokeAll = async (): Promise<void> => {
        for (;;) {
          let deleted = 0;
          let cursor: string | null = null;
          do {
            const batch: DeleteAllResult = await store.deleteAll({
              createdBefore: NOW,
              limit: 5,
              cursor,
            });
            deleted += batch.deleted.length;
            cursor = batch.cursor;
          } while (cursor !== null);
          if (deleted === 0) return;
        }
      };
      const writes = sessions.flatMap((session, index) => [
        store.insert(makeSession({ userId: session.userId, createdAt: NOW - HOUR }), {
          replaces: { id: session.id, version: session.version },
          limit,
        }),
        store.update(next(session), { retire: null }),
        ...(index % 8 === 0 ? [store.deleteByUser(session.userId!, { except: null })] : []),
      ]);
      await Promise.all([revokeAll(), ...writes]);

      // The writes are done, and the last pass deleted nothing: every session created before
      // the cut-off is gone, whichever order things happened in.
      await revokeAll();
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(0);
    });

    it('refuses to run under REPEATABLE READ, where the lock would come after the snapshot', async () => {
      const pool = newPool({ options: '-c default_transaction_isolation=repeatable\\ read' });
      const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
      await store.ready();
      const session = makeSession({ userId: 'user' });
      await expect(store.insert(session, { replaces: null, limit: null })).rejects.toThrow(
        /READ COMMITTED/,
      );
      await expect(store.deleteByUser('user', { except: null })).rejects.toThrow(/READ COMMITTED/);
      await expect(store.deleteAll({ createdBefore: NOW, limit: 1, cursor: null })).rejects.toThrow(
        /READ COMMITTED/,
      );
      expect(await store.findById(session.id)).toBeNull();
    });
  });

  describe('deleteAll', () => {
    it('[SM-30] walks the table in windows of `limit` rows, whatever the share that matches', async () => {
      const schema = freshSchema();
      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      const old = Array.from({ length: 7 }, (_, index) =>
        makeSession({ createdAt: NOW - HOUR, userId: index % 2 === 0 ? 'user' : null }),
      );
      const recent = Array.from({ length: 13 }, () => makeSession({ createdAt: NOW }));
      await store.ready();
      for (const session of [...old, ...recent]) {
        await store.insert(session, { replaces: null, limit: null });
      }
      const rotated = next(old[0]!, { tokenHash: randomTokenHash() });
      await store.update(rotated, { retire: { tokenHash: old[0]!.tokenHash, graceUntil: NOW } });

      const deleted: string[] = [];
      let cursor: string | null = null;
      let calls = 0;
      do {
        const batch: DeleteAllResult = await store.deleteAll({
          createdBefore: NOW,
          limit: 4,
          cursor,
        });
        expect(batch.deleted.length).toBeLessThanOrEqual(4);
        deleted.push(...batch.deleted);
        cursor = batch.cursor;
        calls++;
      } while (cursor !== null);

      expect(calls).toBe(Math.ceil((old.length + recent.length) / 4) + 1);
      expect(deleted.sort()).toEqual(old.map((session) => session.id).sort());
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(recent.length);
      expect(await count(`"${schema}".strongroom_retired_tokens`)).toBe(0);
      expect(await store.findByTokenHash(old[0]!.tokenHash)).toBeNull();
    });

    it('rejects a limit that is not a positive integer rather than deleting nothing', async () => {
      const store = open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await expect(store.deleteAll({ createdBefore: NOW, limit, cursor: null })).rejects.toThrow(
          RangeError,
        );
      }
    });
  });

  describe('integers', () => {
    it('reads bigint columns as numbers, whatever int8 parser the pool uses', async () => {
      for (const parse of [(value: string) => BigInt(value), (value: string) => Number(value)]) {
        const pool = newPool({
          types: {
            getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
              oid === 20
                ? parse
                : (pg.types.getTypeParser(
                    oid,
                    format,
                  ) as unknown)) as typeof pg.types.getTypeParser,
          },
        });
        const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
        const session = makeSession({ userId: 'user', authenticatedAt: NOW - 5 });
        await store.insert(session, { replaces: null, limit: null });
        expect(await store.findById(session.id)).toEqual(session);
        expect(await store.listByUser('user', NOW)).toEqual([session]);
      }
    });

    it('rejects a stored integer beyond the safe range instead of rounding it', async () => {
      const schema = freshSchema();
      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      await admin.query(`UPDATE "${schema}".strongroom_sessions SET created_at = $1`, [
        '9007199254740993',
      ]);
      await expect(store.findById(session.id)).rejects.toThrow(/safe range/);
    });
  });

  describe('errors', () => {
    it('rejects a duplicate id with the driver error (unique violation), never throwing synchronously', async () => {
      const store = open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });

      let pending: Promise<InsertResult> | undefined;
      expect(() => {
        pending = store.insert(
          { ...makeSession(), id: session.id },
          { replaces: null, limit: null },
        );
      }).not.toThrow();
      await expect(pending).rejects.toMatchObject({ code: '23505' });
    });

    it('a token hash is retired once: retiring it again rejects and changes nothing', async () => {
      const store = open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      const retire = { tokenHash: session.tokenHash, graceUntil: NOW };
      const rotated = next(session, { tokenHash: randomTokenHash() });
      expect(await store.update(rotated, { retire })).toBe(true);

      const again = next(rotated, { tokenHash: randomTokenHash() });
      await expect(store.update(again, { retire })).rejects.toMatchObject({ code: '23505' });
      expect(await store.findById(session.id)).toEqual(rotated);
    });

    it('warns once per outage when the pool reports a connection error, and never crashes', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const pool = newPool();
      const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
      await store.ready();

      pool.emit('error', new Error('Connection terminated unexpectedly'));
      pool.emit('error', new Error('Connection terminated unexpectedly'));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'STRONGROOM_POSTGRES_CONNECTION' });

      await store.findById(randomId());
      pool.emit('error', new Error('Connection terminated unexpectedly'));
      expect(warn).toHaveBeenCalledTimes(2);
    });

    it('does not warn of an outage for a statement that fails on its own (a duplicate id)', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const store = open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      await expect(
        store.insert({ ...makeSession(), id: session.id }, { replaces: null, limit: null }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(warn).not.toHaveBeenCalled();
    });

    it('close leaves a caller pool open, without the store’s listener, and later calls reject', async () => {
      const pool = newPool();
      const listeners = pool.listenerCount('error');
      const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
      expect(pool.listenerCount('error')).toBe(listeners + 1);
      await store.ready();

      await Promise.all([store.close(), store.close()]);
      await store.close();
      expect(pool.listenerCount('error')).toBe(listeners);
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await expect(store.findById(randomId())).rejects.toThrow(/closed/);
      await expect(store.purgeExpired(NOW, 0)).rejects.toThrow(/closed/);
      await expect(store.ready()).rejects.toThrow(/closed/);
    });

    it('close ends the pool the store created', async () => {
      const end = vi.spyOn(pg.Pool.prototype, 'end');
      const store = open({ connectionString: DIRECT_URL, schema: freshSchema() });
      await store.ready();
      await store.close();
      await store.close();
      expect(end).toHaveBeenCalledTimes(1);
      await expect(store.findById(randomId())).rejects.toThrow();
    });
  });

  describe('purge', () => {
    it('purges retired tokens whose own deadline passed while their session lives on', async () => {
      const schema = freshSchema();
      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      const session = makeSession();
      const rotated = next(session, { tokenHash: randomTokenHash() });
      await store.insert(session, { replaces: null, limit: null });
      await store.update(rotated, { retire: { tokenHash: session.tokenHash, graceUntil: NOW } });
      await admin.query(`UPDATE "${schema}".strongroom_retired_tokens SET expires_at = $1`, [
        NOW - 1,
      ]);

      expect(await store.purgeExpired(NOW, 10)).toBe(0);
      expect(await count(`"${schema}".strongroom_retired_tokens`)).toBe(0);
      expect(await store.findById(session.id)).toEqual(rotated);
    });

    it('two instances purging at once share the work without waiting on each other', async () => {
      const schema = freshSchema();
      const a = open({ pool: newPool(), schema, purgeIntervalSeconds: 0 });
      const b = open({ pool: newPool(), schema, purgeIntervalSeconds: 0 });
      await a.ready();
      await insertExpired(schema, 1_000, NOW - 1);

      const [first, second] = await Promise.all([
        a.purgeExpired(NOW, 600),
        b.purgeExpired(NOW, 600),
      ]);
      expect(first + second).toBe(1_000);
      expect(Math.max(first, second)).toBeLessThanOrEqual(600);
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(0);
    });

    it('sweeps in bounded batches, back to back, and close() stops the timer', async () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const schema = freshSchema();
      const pool = newPool();
      const store = open({
        pool,
        schema,
        purgeIntervalSeconds: 60,
        purgeBatchSize: 500,
        now: () => NOW,
      });
      await store.ready();
      await insertExpired(schema, 1_200, NOW - 1_000);
      await insertExpired(schema, 3, NOW + HOUR);

      const queries = vi.spyOn(pool, 'query');
      /** The sessions deleted by each purge statement so far, checking each one's bound. */
      const batches = async (): Promise<number[]> => {
        const deleted: number[] = [];
        for (const [index, [call]] of queries.mock.calls.entries()) {
          const config = call as unknown as QueryConfig;
          if (!config.text.includes('FOR UPDATE SKIP LOCKED')) continue;
          expect(config.values).toEqual([NOW, 500]);
          const result = (await queries.mock.results[index]!.value) as pg.QueryResult<{
            sessions: number;
          }>;
          deleted.push(result.rows[0]!.sessions);
        }
        return deleted;
      };

      vi.advanceTimersByTime(59_999);
      expect(await batches()).toEqual([]);
      vi.advanceTimersByTime(1);
      await vi.waitFor(async () => expect(await batches()).toEqual([500, 500, 200]));
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(3);

      await store.close();
      expect(vi.getTimerCount()).toBe(0);
      await admin.query(`UPDATE "${schema}".strongroom_sessions SET expires_at = $1`, [NOW - 1]);
      vi.advanceTimersByTime(10 * 60_000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(await batches()).toEqual([500, 500, 200]);
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(3);
    });

    it('starts no timer when purgeIntervalSeconds is 0, and an unref’d one otherwise', () => {
      const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
      open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      expect(setIntervalSpy).not.toHaveBeenCalled();

      open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 5 });
      expect(setIntervalSpy).toHaveBeenCalledTimes(1);
      const timer = setIntervalSpy.mock.results[0]!.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
    });
  });

  /** Inserts `total` sessions expiring at `at` straight into the table, in one statement. */
  async function insertExpired(schema: string, total: number, at: number): Promise<void> {
    await admin.query(
      `INSERT INTO "${schema}".strongroom_sessions
         (id, token_hash, user_id, created_at, authenticated_at, last_seen_at, idle_expires_at,
          absolute_expires_at, rotated_at, expires_at, version, sealed)
       SELECT 'bulk-' || g || '-' || $3, 'hash-' || g || '-' || $3, NULL, $1::bigint, NULL,
              $1::bigint, $2::bigint, $2::bigint, $1::bigint, $2::bigint, 1, 'sealed'
         FROM generate_series(1, $4::integer) AS g`,
      [at - HOUR, at, randomId(), total],
    );
  }
});

describe('createPostgresStore: an unreachable database', () => {
  /** A port nothing listens on: every connection attempt is refused at once. */
  async function refusedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('[SM-57] store.failed and the one warning carry the cause’s code and message, never the password', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const port = await refusedPort();
    const password = 'pg-password-that-must-not-leak';
    const store = createPostgresStore({
      connectionString: `postgres://${PG_USER}:${password}@127.0.0.1:${port}/${PG_DATABASE}`,
      purgeIntervalSeconds: 0,
    });
    const manager = createSessionManager({
      store,
      keys: [TEST_KEY],
      csrf: { origins: [TEST_ORIGIN] },
    });
    const events: SessionEvent[] = [];
    manager.on('store.failed', (event) => events.push(event));
    try {
      await expect(manager.revokeUserSessions('user')).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await expect(manager.listUserSessions('user')).rejects.toBeInstanceOf(StoreUnavailableError);

      const cause = `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`;
      expect(events.map(({ reason, detail }) => ({ reason, detail }))).toEqual([
        { reason: 'revoke', detail: cause },
        { reason: 'list', detail: cause },
      ]);
      const warnings = warn.mock.calls.filter(
        ([, options]) =>
          (options as { code?: string } | undefined)?.code === 'STRONGROOM_POSTGRES_CONNECTION',
      );
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]![0])).toBe(
        `The Strongroom PostgreSQL session store cannot reach the database (${cause}). ` +
          'Session calls fail (503) until it answers again; this warning is not repeated before then.',
      );
      expect(JSON.stringify([events, warn.mock.calls])).not.toContain(password);
    } finally {
      await store.close();
      warn.mockRestore();
    }
  });
});
