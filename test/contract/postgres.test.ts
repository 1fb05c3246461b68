import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { describeStoreContract } from '../../src/testing/store-contract.js';
import { serviceAvailable } from '../support/services.js';
import { OutageProxy } from '../support/tcp-proxy.js';

const PG_PORT = 5432;
const PG_USER = process.env.PGUSER ?? 'postgres';
const PG_DATABASE = process.env.PGDATABASE ?? 'test';
const available = await serviceAvailable('PostgreSQL', PG_PORT);

describe.skipIf(!available)('postgres', () => {
  const proxy = new OutageProxy(PG_PORT);
  const proxyUrl = (): string => `postgres://${PG_USER}@127.0.0.1:${proxy.port}/${PG_DATABASE}`;
  const admin = new pg.Pool({
    host: '127.0.0.1',
    port: PG_PORT,
    user: PG_USER,
    database: PG_DATABASE,
    max: 4,
  });
  // The application's own pool in the second run, routed through the proxy too. Like any app
  // pool it needs an 'error' listener of its own once no store is attached to it.
  let appPool: pg.Pool;
  const schemas: string[] = [];

  /** A schema of its own for every test, dropped after it. */
  function freshSchema(): string {
    const schema = `strongroom_contract_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return schema;
  }

  beforeAll(async () => {
    await proxy.start();
    appPool = new pg.Pool({ connectionString: proxyUrl(), max: 4, connectionTimeoutMillis: 5_000 });
    appPool.on('error', () => {});
  });

  afterEach(async () => {
    for (const schema of schemas.splice(0)) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  afterAll(async () => {
    await appPool.end();
    await proxy.stop();
    await admin.end();
  });

  describeStoreContract('postgres (own pool, through an outage proxy)', {
    open: async () => {
      const store = createPostgresStore({
        connectionString: proxyUrl(),
        schema: freshSchema(),
        purgeIntervalSeconds: 0,
      });
      await store.ready();
      return store;
    },
    stop: () => proxy.stop(),
    start: () => proxy.start(),
  });

  describeStoreContract('postgres (caller pool, custom prefix)', {
    open: async () => {
      const store = createPostgresStore({
        pool: appPool,
        schema: freshSchema(),
        tablePrefix: 'App_Sessions_',
        purgeIntervalSeconds: 0,
      });
      await store.ready();
      return store;
    },
    stop: () => proxy.stop(),
    start: () => proxy.start(),
  });
});
