/**
 * An insert whose session id or token hash another session already holds rejects with a typed
 * `StoreConflictError` (409), on a single Redis node and on Redis Cluster, and changes nothing:
 * not a plain error the core would report as "store unavailable" (503), and never an overwrite
 * of the other session's record or token key.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError } from '../../src/core/errors.js';
import {
  FRESH,
  MINUTE,
  NOW,
  makeSession,
  randomId,
  replacing,
} from '../../src/testing/store-contract-support.js';
import type { SessionStore, StoredSession } from '../../src/core/store.js';
import { createRedisStore } from '../../src/stores/redis.js';
import { serviceAvailable } from '../support/services.js';
import { deleteKeys, freshPrefix } from './redis-support.js';

const REDIS_PORT = 6379;
/** The three masters the vitest global setup (test/setup/redis-cluster.ts) starts. */
const CLUSTER_PORTS = [7001, 7002, 7003];
const [redisUp, clusterUp] = await Promise.all([
  serviceAvailable('Redis', REDIS_PORT),
  serviceAvailable('Redis Cluster', CLUSTER_PORTS[0] as number),
]);

async function expectConflict(
  attempt: Promise<unknown>,
  what: 'session id' | 'token hash',
): Promise<void> {
  const error: unknown = await attempt.then(
    () => new Error('the insert resolved'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreConflictError);
  expect(error).toMatchObject({
    code: 'ERR_STORE_CONFLICT',
    status: 409,
    message: `Session store already holds this ${what}`,
  });
}

/**
 * Registers the cases against one Redis deployment. The client is lazy (the body runs even when
 * the suite is skipped) and listens to 'error' so that ioredis prints no stack per retry; each
 * test gets a store under a key prefix of its own, whose keys are deleted afterwards.
 */
function describeConflicts(
  title: string,
  available: boolean,
  connect: () => Redis | Cluster,
  topology: 'standalone' | 'cluster',
): void {
  describe.skipIf(!available)(title, () => {
    const client = connect();
    client.on('error', () => {});
    let keyPrefix = '';
    let store: SessionStore;

    beforeEach(() => {
      keyPrefix = freshPrefix();
      store = createRedisStore({ client, keyPrefix, topology });
    });
    afterEach(async () => {
      await store.close();
      await deleteKeys(client, keyPrefix);
    });
    afterAll(async () => {
      await client.quit();
    });

    registerCases(() => store);
  });
}

describeConflicts(
  'redis insert conflicts (single node)',
  redisUp,
  () => new Redis({ host: '127.0.0.1', port: REDIS_PORT, lazyConnect: true }),
  'standalone',
);
describeConflicts(
  'redis insert conflicts (per-slot cluster protocol on one node)',
  redisUp,
  () => new Redis({ host: '127.0.0.1', port: REDIS_PORT, lazyConnect: true }),
  'cluster',
);
describeConflicts(
  'redis insert conflicts (redis cluster, 3 masters)',
  clusterUp,
  () =>
    new Cluster(
      CLUSTER_PORTS.map((port) => ({ host: '127.0.0.1', port })),
      { lazyConnect: true },
    ),
  'cluster',
);

function registerCases(currentStore: () => SessionStore): void {
  let store: SessionStore;
  beforeEach(() => {
    store = currentStore();
  });

  async function insert(overrides: Partial<StoredSession> = {}): Promise<StoredSession> {
    const session = makeSession(overrides);
    expect(await store.insert(session, FRESH)).toEqual({ status: 'inserted', evicted: [] });
    return session;
  }

  async function expectIntact(session: StoredSession): Promise<void> {
    expect(await store.findById(session.id)).toEqual(session);
    expect(await store.findByTokenHash(session.tokenHash)).toEqual({
      session,
      retiredGraceUntil: null,
    });
  }

  it('rejects a session id another session holds with StoreConflictError, changing nothing', async () => {
    const existing = await insert();
    const clash = makeSession({ id: existing.id });

    await expectConflict(store.insert(clash, FRESH), 'session id');

    await expectIntact(existing);
    expect(await store.findByTokenHash(clash.tokenHash)).toBeNull();
  });

  it('rejects a taken session id in a limited login that replaces a session, deleting nothing', async () => {
    const user = randomId();
    const existing = await insert({ userId: randomId() });
    const replaced = await insert();
    const mine = await insert({ userId: user, lastSeenAt: NOW - 10 * MINUTE });
    const clash = makeSession({ id: existing.id, userId: user });
    const limit = { max: 1, policy: 'evict-oldest', now: NOW } as const;

    await expectConflict(store.insert(clash, replacing(replaced, limit)), 'session id');

    await expectIntact(existing);
    await expectIntact(replaced);
    expect(await store.listByUser(user, NOW)).toEqual([mine]);
    expect(await store.findByTokenHash(clash.tokenHash)).toBeNull();
  });

  it("rejects another session's current token hash with StoreConflictError, changing nothing", async () => {
    const holder = await insert({ userId: randomId() });
    const clash = makeSession({ tokenHash: holder.tokenHash });

    await expectConflict(store.insert(clash, FRESH), 'token hash');

    await expectIntact(holder);
    expect(await store.findById(clash.id)).toBeNull();
  });

  it('rejects a taken token hash in a signed-in, limited or replacing insert, evicting nothing', async () => {
    const user = randomId();
    const holder = await insert({ userId: randomId() });
    const mine = [
      await insert({ userId: user, lastSeenAt: NOW - 10 * MINUTE }),
      await insert({ userId: user }),
    ];
    const replaced = await insert();
    const clash = makeSession({ userId: user, tokenHash: holder.tokenHash });
    const limit = { max: 1, policy: 'evict-oldest', now: NOW } as const;

    await expectConflict(store.insert(clash, FRESH), 'token hash');
    await expectConflict(store.insert(clash, { replaces: null, limit }), 'token hash');
    await expectConflict(store.insert(clash, replacing(replaced)), 'token hash');
    await expectConflict(store.insert(clash, replacing(mine[0]!, limit)), 'token hash');

    await expectIntact(holder);
    await expectIntact(replaced);
    for (const session of mine) await expectIntact(session);
    expect(await store.findById(clash.id)).toBeNull();
    const listed = (await store.listByUser(user, NOW)).map((session) => session.id).sort();
    expect(listed).toEqual(mine.map((session) => session.id).sort());
  });

  it('rejects a token hash that rotation retired from another session, keeping its grace', async () => {
    const holder = await insert();
    const rotated: StoredSession = {
      ...makeSession({ id: holder.id, rotatedAt: NOW, lastSeenAt: NOW }),
      version: holder.version + 1,
      sealed: holder.sealed,
    };
    const retire = { tokenHash: holder.tokenHash, graceUntil: NOW + MINUTE };
    expect(await store.update(rotated, { retire })).toBe(true);
    const clash = makeSession({ tokenHash: holder.tokenHash });

    await expectConflict(store.insert(clash, FRESH), 'token hash');

    expect(await store.findByTokenHash(holder.tokenHash)).toEqual({
      session: rotated,
      retiredGraceUntil: retire.graceUntil,
    });
    await expectIntact(rotated);
    expect(await store.findById(clash.id)).toBeNull();
  });

  it('reports the session id when both the id and the token hash are taken', async () => {
    const existing = await insert();
    const other = await insert();

    await expectConflict(
      store.insert(makeSession({ id: existing.id, tokenHash: existing.tokenHash }), FRESH),
      'session id',
    );
    await expectConflict(
      store.insert(makeSession({ id: existing.id, tokenHash: other.tokenHash }), FRESH),
      'session id',
    );

    await expectIntact(existing);
    await expectIntact(other);
  });
}
