import { randomBytes } from 'node:crypto';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { describeStoreContract } from '../../src/testing/store-contract.js';
import { serviceAvailable } from '../support/services.js';

const PG_PORT = 5432;
const PG_USER = process.env.PGUSER ?? 'postgres';
const PG_DATABASE = process.env.PGDATABASE ?? 'test';
const available = await serviceAvailable('PostgreSQL', PG_PORT);

/**
 * A TCP relay to the shared PostgreSQL server. `stop` cuts every live connection and refuses new
 * ones, which is what a store sees when its server goes down, without stopping the server the
 * other test files use; `start` accepts connections again on the same port.
 */
class OutageProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor() {
    this.#server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: PG_PORT });
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  get url(): string {
    return `postgres://${PG_USER}@127.0.0.1:${this.#port}/${PG_DATABASE}`;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: '127.0.0.1', port: this.#port }, () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    return closed;
  }
}

describe.skipIf(!available)('postgres', () => {
  const proxy = new OutageProxy();
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
    appPool = new pg.Pool({ connectionString: proxy.url, max: 4, connectionTimeoutMillis: 5_000 });
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
        connectionString: proxy.url,
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
