import { createHash, randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionStore, StoredSession } from '../../src/core/store.js';
import { createRedisStore } from '../../src/stores/redis.js';
import { describeStoreContract } from '../../src/testing/store-contract.js';
import { serviceAvailable } from '../support/services.js';
import { OutageProxy } from '../support/tcp-proxy.js';
import { ScriptGate, deleteKeys, freshPrefix } from './redis-support.js';

/** The three masters `bash scripts/redis-cluster.sh start` runs. */
const NODE_PORTS = [7001, 7002, 7003];
const available = await serviceAvailable('Redis Cluster', NODE_PORTS[0] as number);

/**
 * A client straight to the nodes. Lazy: the suite's body runs even when it is skipped, and an
 * eager client would retry a cluster that is down for as long as the test run lasts. Its
 * 'error' listener keeps ioredis from printing a stack per failed attempt; a command that
 * fails still rejects.
 */
function directCluster(): Cluster {
  const cluster = new Cluster(
    NODE_PORTS.map((port) => ({ host: '127.0.0.1', port })),
    { lazyConnect: true },
  );
  cluster.on('error', () => {});
  return cluster;
}

describe.skipIf(!available)('redis cluster', () => {
  // One relay per node. The nodes announce their real addresses in CLUSTER SLOTS; `natMap`
  // sends the client to the relays instead, so that stopping them is an outage of the cluster.
  const proxies = NODE_PORTS.map((nodePort) => ({ nodePort, relay: new OutageProxy(nodePort) }));
  const admin = directCluster();
  let appCluster: Cluster;
  const prefixes: string[] = [];

  function prefix(): string {
    const value = freshPrefix();
    prefixes.push(value);
    return value;
  }

  function openCluster(): Cluster {
    const cluster = new Cluster(
      proxies.map(({ relay }) => ({ host: '127.0.0.1', port: relay.port })),
      {
        natMap: Object.fromEntries(
          proxies.map(({ nodePort, relay }) => [
            `127.0.0.1:${nodePort}`,
            { host: '127.0.0.1', port: relay.port },
          ]),
        ),
        redisOptions: { maxRetriesPerRequest: 1 },
      },
    );
    cluster.on('error', () => {});
    return cluster;
  }

  const stop = async (): Promise<void> => {
    await Promise.all(proxies.map(({ relay }) => relay.stop()));
  };
  const start = async (): Promise<void> => {
    await Promise.all(proxies.map(({ relay }) => relay.start()));
  };

  beforeAll(async () => {
    await admin.connect();
    await start();
    appCluster = openCluster();
  });

  afterEach(async () => {
    for (const value of prefixes.splice(0)) await deleteKeys(admin, value);
  });

  afterAll(async () => {
    appCluster.disconnect();
    await stop();
    await admin.quit();
  });

  describeStoreContract('redis cluster (3 masters, through outage proxies)', {
    open: () => Promise.resolve(createRedisStore({ client: appCluster, keyPrefix: prefix() })),
    stop,
    start,
    expiry: 'native-ttl',
  });

  /*
   * The orderings the per-slot protocol relies on, forced step by step: the contract's races
   * hit these interleavings only by chance. A gate holds one script call of the store until the
   * test has run the racing operation to its end.
   */
  describe('per-slot protocol: orderings under a forced interleaving', () => {
    const direct = directCluster();
    const NOW = Date.UTC(2100, 0, 1);
    let gate: ScriptGate<Cluster>;
    let store: SessionStore;
    let keyPrefix: string;

    beforeAll(async () => {
      await direct.connect();
      gate = new ScriptGate(direct);
    });

    afterAll(async () => {
      await direct.quit();
    });

    function open(): SessionStore {
      keyPrefix = prefix();
      store = createRedisStore({ client: gate.client, keyPrefix });
      return store;
    }

    afterEach(async () => {
      await store.close();
    });

    function makeSession(overrides: Partial<StoredSession> = {}): StoredSession {
      return {
        id: randomBytes(16).toString('base64url'),
        tokenHash: createHash('sha256').update(randomBytes(32)).digest('base64url'),
        userId: null,
        createdAt: NOW - 60_000,
        authenticatedAt: null,
        lastSeenAt: NOW - 60_000,
        idleExpiresAt: NOW + 1_800_000,
        absoluteExpiresAt: NOW + 43_200_000,
        rotatedAt: NOW - 60_000,
        version: 1,
        sealed: `v1.k1.${randomBytes(48).toString('base64url')}`,
        ...overrides,
      };
    }

    async function insert(overrides: Partial<StoredSession> = {}): Promise<StoredSession> {
      const session = makeSession(overrides);
      expect(await store.insert(session, { replaces: null, limit: null })).toEqual({
        status: 'inserted',
        evicted: [],
      });
      return session;
    }

    async function expectGone(session: StoredSession): Promise<void> {
      expect(await store.findById(session.id)).toBeNull();
      expect(await store.findByTokenHash(session.tokenHash)).toBeNull();
    }

    const replacing = (session: StoredSession) =>
      ({ replaces: { id: session.id, version: session.version }, limit: null }) as const;

    it('[SM-31] deleteByUser reads the index again when a regeneration dropped a member first', async () => {
      open();
      const user = randomBytes(8).toString('base64url');
      const old = await insert({ userId: user });
      const fresh = makeSession({ userId: user, createdAt: old.createdAt });
      // deleteByUser has read the index (old only) and is about to drop old ...
      const drop = gate.hold(
        ({ keys, args }) => keys[0] === `${keyPrefix}{${old.id}}` && args[0] === 'user',
      );
      const revocation = store.deleteByUser(user, { except: null });
      await drop.reached;

      // ... when a regeneration of old runs to its end: it indexes fresh, then drops old.
      expect(await store.insert(fresh, replacing(old))).toEqual({
        status: 'inserted',
        evicted: [],
      });
      drop.release();

      // deleteByUser found old gone, read the index again, and revoked the replacement.
      expect(await revocation).toEqual([fresh.id]);
      await expectGone(old);
      await expectGone(fresh);
      expect(await store.listByUser(user, NOW)).toEqual([]);
    });

    it('[SM-31] a regeneration drops a signed-in session only once its replacement is indexed', async () => {
      open();
      const user = randomBytes(8).toString('base64url');
      const old = await insert({ userId: user, authenticatedAt: NOW - 60_000 });
      const fresh = makeSession({ userId: user, authenticatedAt: old.authenticatedAt });
      // The regeneration has created fresh and is indexing it ...
      const indexing = gate.hold(
        ({ keys, args }) => keys[0] === `${keyPrefix}u:{${user}}` && args[0] === fresh.id,
      );
      const regeneration = store.insert(fresh, replacing(old));
      await indexing.reached;

      // ... while a revocation runs to its end: old must still be there for it to take.
      expect(await store.deleteByUser(user, { except: null })).toEqual([old.id]);
      indexing.release();

      expect(await regeneration).toEqual({ status: 'conflict' });
      await expectGone(old);
      await expectGone(fresh);
      expect(await store.listByUser(user, NOW)).toEqual([]);
    });

    it('[SM-34] of two logins racing for the last place, the one indexed first wins', async () => {
      open();
      const user = randomBytes(8).toString('base64url');
      const existing = await insert({ userId: user });
      const limit = { max: 2, policy: 'refuse', now: NOW } as const;
      const first = makeSession({ userId: user });
      const second = makeSession({ userId: user });
      // `first` started earlier but is held just before the user's index ...
      const indexing = gate.hold(
        ({ keys, args }) => keys[0] === `${keyPrefix}u:{${user}}` && args[0] === first.id,
      );
      const late = store.insert(first, { replaces: null, limit });
      await indexing.reached;

      // ... so `second` is indexed first and takes the last place; `first` then sees it.
      expect(await store.insert(second, { replaces: null, limit })).toEqual({
        status: 'inserted',
        evicted: [],
      });
      indexing.release();
      expect(await late).toEqual({ status: 'limit-reached' });

      await expectGone(first);
      const listed = await store.listByUser(user, NOW);
      expect(listed.map((session) => session.id).sort()).toEqual([existing.id, second.id].sort());
    });
  });
});
