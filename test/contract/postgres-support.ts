/**
 * What the PostgreSQL store tests (test/contract/postgres-*.test.ts) share: the server they
 * need, a fixture that gives each test its own schemas, pools and stores and drops them after
 * it, and a relay that counts round trips.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, vi } from 'vitest';
import type { SessionStore } from '../../src/core/store.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import type { PostgresStore, PostgresStoreOptions } from '../../src/stores/postgres.js';
import { OutageProxy } from '../support/tcp-proxy.js';

export const PG_PORT = 5432;
export const PG_USER = process.env.PGUSER ?? 'postgres';
export const PG_DATABASE = process.env.PGDATABASE ?? 'test';
export const DIRECT_URL = `postgres://${PG_USER}@127.0.0.1:${PG_PORT}/${PG_DATABASE}`;

/** PostgreSQL protocol codes of the untyped requests a client may send before its startup message. */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * A TCP relay to PostgreSQL that reads the frontend protocol and counts round trips: every
 * extended-protocol exchange ends with one Sync ('S') message, every simple query is one Query
 * ('Q') message, and the client waits for the server's ReadyForQuery after each. Counting them
 * counts exactly how many times a call waits on the network.
 */
export class RoundTripCounter {
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

/** The schemas, pools and stores of the running test, and queries on them through `admin`. */
export interface PostgresFixture {
  /** A pool straight to the server, for inspecting and arranging tables behind the store. */
  readonly admin: pg.Pool;
  /** Schemas dropped after the test: {@link PostgresFixture.freshSchema} adds to it. */
  readonly schemas: string[];
  /** A new schema name, dropped after the test. */
  freshSchema(): string;
  /** A store closed after the test. */
  open(options: PostgresStoreOptions): PostgresStore;
  /** A pool to the server (with an 'error' listener), ended after the test. */
  newPool(config?: pg.PoolConfig): pg.Pool;
  /** The schema versions recorded in `schema`, in order. */
  versionsIn(schema: string): Promise<number[]>;
  /** The names of the functions in `schema`, in order. */
  functionsIn(schema: string): Promise<string[]>;
  /** How many rows `table` (a qualified, quoted name) holds. */
  count(table: string): Promise<number>;
}

/**
 * Registers, in the calling `describe`, the hooks that clean up after each test (real timers,
 * restored mocks, stores closed, pools ended, schemas dropped) and end `admin` after the last.
 */
export function usePostgresFixture(): PostgresFixture {
  const admin = new pg.Pool({ connectionString: DIRECT_URL, max: 4 });
  const schemas: string[] = [];
  const stores: SessionStore[] = [];
  const pools: pg.Pool[] = [];

  function freshSchema(): string {
    const schema = `strongroom_store_${randomBytes(6).toString('hex')}`;
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

  return { admin, schemas, freshSchema, open, newPool, versionsIn, functionsIn, count };
}
