import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, describe } from 'vitest';
import type { SessionStore } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import { createRedisStore } from '../../src/stores/redis.js';
import { createSQLiteStore } from '../../src/stores/sqlite.js';
import { serviceAvailable } from './services.js';

/** A store kind the core's security properties are checked against, end to end. */
export interface StoreKind {
  readonly name: string;
  /** A new, empty store, closed (and its data dropped) after the test. */
  open(): Promise<SessionStore>;
}

const CLUSTER_PORTS = [7001, 7002, 7003];

const [redisUp, clusterUp, postgresUp] = await Promise.all([
  serviceAvailable('Redis', 6379),
  serviceAvailable('Redis Cluster', CLUSTER_PORTS[0] as number),
  serviceAvailable('PostgreSQL', 5432),
]);

/**
 * Registers `body` once per store: memory, SQLite, and (when their servers run; always in CI)
 * Redis, Redis Cluster and PostgreSQL. Each kind gets its own `describe`.
 */
export function describeEachStore(title: string, body: (kind: StoreKind) => void): void {
  const opened: SessionStore[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  const track = (store: SessionStore): SessionStore => {
    opened.push(store);
    return store;
  };

  describe(`${title} (memory)`, () => {
    body({ name: 'memory', open: () => Promise.resolve(track(createMemoryStore())) });
  });
  describe(`${title} (sqlite)`, () => {
    body({
      name: 'sqlite',
      open: () => Promise.resolve(track(createSQLiteStore({ path: ':memory:' }))),
    });
  });
  describe.skipIf(!redisUp)(`${title} (redis)`, () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    // Each store listens for 'error' only while it is open; between tests nobody would, and
    // ioredis prints every unheard error with its stack.
    client.on('error', () => {});
    afterAll(() => client.quit().then(() => undefined));
    body({
      name: 'redis',
      open: () => {
        const keyPrefix = `sr-test:${randomBytes(6).toString('hex')}:`;
        cleanups.push(() => dropRedisPrefix(client, keyPrefix));
        return Promise.resolve(track(createRedisStore({ client, keyPrefix })));
      },
    });
  });
  describe.skipIf(!clusterUp)(`${title} (redis cluster)`, () => {
    const cluster = new Cluster(
      CLUSTER_PORTS.map((port) => ({ host: '127.0.0.1', port })),
      {
        lazyConnect: true,
      },
    );
    cluster.on('error', () => {});
    afterAll(() => cluster.quit().then(() => undefined));
    body({
      name: 'redis cluster',
      open: () => {
        const keyPrefix = `sr-test:${randomBytes(6).toString('hex')}:`;
        cleanups.push(() =>
          Promise.all(cluster.nodes('master').map((node) => dropRedisPrefix(node, keyPrefix))).then(
            () => undefined,
          ),
        );
        return Promise.resolve(track(createRedisStore({ client: cluster, keyPrefix })));
      },
    });
  });
  describe.skipIf(!postgresUp)(`${title} (postgres)`, () => {
    const admin = new pg.Pool({ host: '127.0.0.1', user: 'postgres', database: 'test', max: 2 });
    afterAll(() => admin.end());
    body({
      name: 'postgres',
      open: () => {
        const schema = `sr_test_${randomBytes(6).toString('hex')}`;
        cleanups.push(async () => {
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        });
        return Promise.resolve(
          track(
            createPostgresStore({
              connectionString: 'postgres://postgres@127.0.0.1:5432/test',
              schema,
              purgeIntervalSeconds: 0,
            }),
          ),
        );
      },
    });
  });
}

async function dropRedisPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    // One key per command: on a cluster node the keys may sit in different slots.
    await Promise.all(keys.map((key) => client.del(key)));
    cursor = next;
  } while (cursor !== '0');
}
