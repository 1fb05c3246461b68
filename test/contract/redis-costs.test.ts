/**
 * What the Redis store costs: round trips and commands per operation (the hot path must stay at
 * one round trip on a single node), and Redis memory per session. The numbers are printed as
 * tables; the assertions pin the round trips exactly and memory to a ceiling.
 *
 * Round trips: the store talks to Redis through relays that hold every client chunk for
 * LATENCY_MS. Commands sent together reach the relays together; a command that waits for a reply
 * reaches them at least LATENCY_MS later. So the sequential round trips of an operation are the
 * groups of chunk arrivals separated by more than half of LATENCY_MS (machine load only widens
 * the gaps). Commands are counted with MONITOR, filtered to the relays' own connections (commands
 * run inside scripts excluded).
 * Memory: a private redis-server, `used_memory` from INFO before and after 10,000 sessions.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InsertOptions, SessionStore, StoredSession } from '../../src/core/store.js';
import { createRedisStore } from '../../src/stores/redis.js';
import { serviceAvailable } from '../support/services.js';
import { LatencyProxy, deleteKeys, freshPrefix } from './redis-support.js';

const REDIS_PORT = 6379;
const CLUSTER_PORTS = [7001, 7002, 7003];
const LATENCY_MS = 40;
const SESSIONS = 10_000;
const SEALED_LENGTH = 200;
const NOW = Date.now();
const HOUR = 3_600_000;
/** A plain insert: nothing replaced, no session limit. */
const FRESH: InsertOptions = { replaces: null, limit: null };
/** Sessions created this long before NOW are the ones the deleteAll measurement deletes. */
const INCIDENT_AGE = 10 * HOUR;

const redisAvailable = await serviceAvailable('Redis', REDIS_PORT);
const clusterAvailable = await serviceAvailable('Redis Cluster', CLUSTER_PORTS[0] as number);
const redisServerInstalled = spawnSync('redis-server', ['--version']).status === 0;
if (!redisServerInstalled && process.env.CI === 'true') {
  throw new Error('redis-server is not on PATH; CI requires it for the Redis memory test');
}

function tokenHash(): string {
  return createHash('sha256').update(randomBytes(32)).digest('base64url');
}

function makeSession(overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    id: randomBytes(16).toString('base64url'),
    tokenHash: tokenHash(),
    userId: null,
    createdAt: NOW,
    authenticatedAt: null,
    lastSeenAt: NOW,
    idleExpiresAt: NOW + HOUR,
    absoluteExpiresAt: NOW + 12 * HOUR,
    rotatedAt: NOW,
    version: 1,
    sealed: sealed(),
    ...overrides,
  };
}

/** What the key ring writes: `v1.k1.` and the base64url of IV, ciphertext and tag. */
function sealed(): string {
  const prefix = 'v1.k1.';
  const bytes = Math.floor(((SEALED_LENGTH - prefix.length) * 3) / 4);
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

interface Cost {
  readonly roundTrips: number;
  readonly commands: number;
}

type Operation = (store: SessionStore) => Promise<unknown>;

/** The operations measured, each run on fresh data prepared outside the measurement. */
async function operations(
  store: SessionStore,
): Promise<Record<string, () => { prepare: () => Promise<void>; run: Operation }>> {
  const user = `user-${randomBytes(4).toString('hex')}`;
  // A user with a few sessions already, as on a real devices list.
  for (let index = 0; index < 3; index++) {
    await store.insert(makeSession({ userId: user }), FRESH);
  }
  const inserted = async (overrides: Partial<StoredSession> = {}): Promise<StoredSession> => {
    const session = makeSession(overrides);
    await store.insert(session, FRESH);
    return session;
  };
  const replacing = (session: StoredSession, max: number | null = null, policy = 'refuse') =>
    ({
      replaces: { id: session.id, version: session.version },
      limit: max === null ? null : { max, policy, now: NOW },
    }) as InsertOptions;
  /** A user of their own with `count` sessions, the least recently used first. */
  const userWith = async (count: number): Promise<string> => {
    const owner = `user-${randomBytes(4).toString('hex')}`;
    for (let index = 0; index < count; index++) {
      await inserted({ userId: owner, lastSeenAt: NOW - (count - index) * 1_000 });
    }
    return owner;
  };
  return {
    'findByTokenHash (current token)': () => {
      let session: StoredSession;
      return {
        prepare: async () => void (session = await inserted({ userId: user })),
        run: (s) => s.findByTokenHash(session.tokenHash),
      };
    },
    'findByTokenHash (unknown token)': () => ({
      prepare: async () => {},
      run: (s) => s.findByTokenHash(tokenHash()),
    }),
    findById: () => {
      let session: StoredSession;
      return {
        prepare: async () => void (session = await inserted()),
        run: (s) => s.findById(session.id),
      };
    },
    'insert (anonymous, first write)': () => ({
      prepare: async () => {},
      run: (s) => s.insert(makeSession(), FRESH),
    }),
    'insert (signed in, no replaces)': () => ({
      prepare: async () => {},
      run: (s) => s.insert(makeSession({ userId: user, authenticatedAt: NOW }), FRESH),
    }),
    'insert with replaces (login)': () => {
      let previous: StoredSession;
      return {
        prepare: async () => void (previous = await inserted()),
        run: (s) =>
          s.insert(makeSession({ userId: user, authenticatedAt: NOW }), replacing(previous)),
      };
    },
    'insert with replaces (regenerate)': () => {
      let previous: StoredSession;
      return {
        prepare: async () =>
          void (previous = await inserted({ userId: user, authenticatedAt: NOW })),
        run: (s) =>
          s.insert(makeSession({ userId: user, authenticatedAt: NOW }), replacing(previous)),
      };
    },
    'login, limit not reached': () => {
      let previous: StoredSession;
      return {
        prepare: async () => void (previous = await inserted()),
        run: (s) =>
          s.insert(makeSession({ userId: user, authenticatedAt: NOW }), replacing(previous, 50)),
      };
    },
    'login at the limit (evict-oldest)': () => {
      let owner: string;
      let previous: StoredSession;
      return {
        prepare: async () => {
          owner = await userWith(3);
          previous = await inserted();
        },
        run: (s) =>
          s.insert(
            makeSession({ userId: owner, authenticatedAt: NOW }),
            replacing(previous, 3, 'evict-oldest'),
          ),
      };
    },
    'login at the limit (refuse)': () => {
      let owner: string;
      let previous: StoredSession;
      return {
        prepare: async () => {
          owner = await userWith(3);
          previous = await inserted();
        },
        run: (s) =>
          s.insert(makeSession({ userId: owner, authenticatedAt: NOW }), replacing(previous, 3)),
      };
    },
    'update (touch)': () => {
      let session: StoredSession;
      return {
        prepare: async () => void (session = await inserted({ userId: user })),
        run: (s) =>
          s.update(
            { ...session, version: 2, lastSeenAt: NOW + 1_000, idleExpiresAt: NOW + 2 * HOUR },
            { retire: null },
          ),
      };
    },
    'update (rotation with retire)': () => {
      let session: StoredSession;
      return {
        prepare: async () => void (session = await inserted({ userId: user })),
        run: (s) =>
          s.update(
            { ...session, version: 2, tokenHash: tokenHash(), rotatedAt: NOW + 1_000 },
            { retire: { tokenHash: session.tokenHash, graceUntil: NOW + 30_000 } },
          ),
      };
    },
    'update (stale version)': () => {
      let session: StoredSession;
      return {
        prepare: async () => void (session = await inserted({ userId: user })),
        run: (s) => s.update({ ...session, version: 5 }, { retire: null }),
      };
    },
    delete: () => {
      let session: StoredSession;
      return {
        prepare: async () => void (session = await inserted({ userId: user })),
        run: (s) => s.delete(session.id),
      };
    },
    'listByUser (4 sessions)': () => {
      const owner = `user-${randomBytes(4).toString('hex')}`;
      return {
        prepare: async () => {
          for (let index = 0; index < 4; index++) await inserted({ userId: owner });
        },
        run: (s) => s.listByUser(owner, NOW),
      };
    },
    'deleteByUser (4 sessions)': () => {
      const other = `user-${randomBytes(4).toString('hex')}`;
      return {
        prepare: async () => {
          for (let index = 0; index < 4; index++) await inserted({ userId: other });
        },
        run: (s) => s.deleteByUser(other, { except: null }),
      };
    },
    purgeExpired: () => ({ prepare: async () => {}, run: (s) => s.purgeExpired(NOW, 100) }),
    'deleteAll (one call)': () => ({
      prepare: async () => {
        for (let index = 0; index < 3; index++) {
          await inserted({ userId: user, createdAt: NOW - INCIDENT_AGE });
        }
      },
      run: (s) => s.deleteAll({ createdBefore: NOW - INCIDENT_AGE + 1, limit: 100, cursor: null }),
    }),
  };
}

/** Counts the commands MONITOR reports from the relays' connections while `run` runs. */
class CommandCounter {
  readonly #monitors: Redis[] = [];
  #proxies: readonly LatencyProxy[] = [];
  #ports: ReadonlySet<number>[] = [];
  #count = 0;
  #sawEval = false;

  async attach(targetPorts: readonly number[], proxies: readonly LatencyProxy[]): Promise<void> {
    this.#proxies = proxies;
    this.#ports = proxies.map((proxy) => proxy.upstreamPorts);
    for (const port of targetPorts) {
      const client = new Redis({ port });
      client.on('error', () => {});
      const monitor = await client.monitor();
      monitor.on('error', () => {});
      client.disconnect();
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        const port = Number(source.split(':').pop());
        const command = (args[0] ?? '').toLowerCase();
        // ioredis's own periodic cluster-topology refresh is not the store's doing.
        if (command === 'cluster' || command === 'info' || command === 'command') return;
        if (!this.#ports.some((ports) => ports.has(port))) return;
        this.#count++;
        if (command === 'eval') this.#sawEval = true;
      });
      this.#monitors.push(monitor);
    }
  }

  /** The cost of one run, or null when a node saw the script for the first time (EVAL). */
  async measure(run: () => Promise<unknown>): Promise<Cost | null> {
    await settle();
    this.#count = 0;
    this.#sawEval = false;
    for (const proxy of this.#proxies) proxy.takeSendTimes();
    await run();
    await settle();
    if (this.#sawEval) return null;
    const sends = this.#proxies.flatMap((proxy) => proxy.takeSendTimes()).sort((a, b) => a - b);
    const roundTrips = sends.filter(
      (time, index) => index === 0 || time - (sends[index - 1] as number) > LATENCY_MS / 2,
    ).length;
    return { roundTrips, commands: this.#count };
  }

  detach(): void {
    for (const monitor of this.#monitors) monitor.disconnect();
  }
}

/** Lets MONITOR deliver the lines of the previous operation. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

async function measureAll(
  store: SessionStore,
  counter: CommandCounter,
): Promise<Map<string, Cost>> {
  const table = await operations(store);
  // Once unmeasured, so that every script is cached on every node (EVALSHA, not EVAL).
  for (const make of Object.values(table)) {
    const { prepare, run } = make();
    await prepare();
    await run(store);
  }
  const costs = new Map<string, Cost>();
  for (const [name, make] of Object.entries(table)) {
    // A cluster node loads a script the first time it runs one of its keys (NOSCRIPT, then
    // EVAL: one more round trip, once per node); measure again until no node had to.
    for (let attempt = 0; attempt < 10 && !costs.has(name); attempt++) {
      const { prepare, run } = make();
      await prepare();
      const cost = await counter.measure(() => run(store));
      if (cost !== null) costs.set(name, cost);
    }
  }
  return costs;
}

function report(title: string, costs: Map<string, Cost>): void {
  const rows = [...costs].map(
    ([name, cost]) =>
      `  ${name.padEnd(34)} ${String(cost.roundTrips).padStart(2)} RT  ${cost.commands} cmd`,
  );
  console.info(`${title}\n${rows.join('\n')}`);
}

describe.skipIf(!redisAvailable)('redis store costs: round trips per operation', () => {
  const proxy = new LatencyProxy(REDIS_PORT, LATENCY_MS);
  const counter = new CommandCounter();
  const admin = new Redis({ port: REDIS_PORT, lazyConnect: true });
  admin.on('error', () => {});
  const prefixes: string[] = [];

  beforeAll(async () => {
    await proxy.start();
    await admin.connect();
    await counter.attach([REDIS_PORT], [proxy]);
  });

  afterAll(async () => {
    counter.detach();
    for (const prefix of prefixes) await deleteKeys(admin, prefix);
    await proxy.stop();
    await admin.quit();
  });

  it('single node: every operation is one round trip and one command', async () => {
    const keyPrefix = freshPrefix();
    prefixes.push(keyPrefix);
    const store = createRedisStore({ url: proxy.url, keyPrefix });
    try {
      const costs = await measureAll(store, counter);
      report('Redis store, single node (standalone scripts):', costs);
      for (const [name, cost] of costs) {
        expect({ name, ...cost }).toEqual({ name, roundTrips: 1, commands: 1 });
      }
    } finally {
      await store.close();
    }
  });

  it('per-slot (cluster) protocol on one node: reads by token in 2, a touch in 1', async () => {
    const keyPrefix = freshPrefix();
    prefixes.push(keyPrefix);
    const store = createRedisStore({ url: proxy.url, keyPrefix, topology: 'cluster' });
    try {
      const costs = await measureAll(store, counter);
      report('Redis store, per-slot protocol (as on Redis Cluster), one node:', costs);
      expectClusterCosts(costs);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!clusterAvailable)('redis store costs: round trips on Redis Cluster', () => {
  const proxies = CLUSTER_PORTS.map((port) => new LatencyProxy(port, LATENCY_MS));
  const counter = new CommandCounter();
  // Lazy, so that it never dials a cluster that is down when the suite is skipped (ioredis
  // would retry, and print a stack per attempt, for the rest of the run).
  const admin = new Cluster(
    CLUSTER_PORTS.map((port) => ({ host: '127.0.0.1', port })),
    { lazyConnect: true },
  );
  admin.on('error', () => {});
  const keyPrefix = freshPrefix();

  beforeAll(async () => {
    await admin.connect();
    await Promise.all(proxies.map((proxy) => proxy.start()));
    await counter.attach(CLUSTER_PORTS, proxies);
  });

  afterAll(async () => {
    counter.detach();
    await deleteKeys(admin, keyPrefix);
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    await admin.quit();
  });

  it('3 masters: reads by token in 2 round trips, a touch in 1, a login in 3', async () => {
    const cluster = new Cluster(
      proxies.map((proxy) => ({ host: '127.0.0.1', port: proxy.port })),
      {
        natMap: Object.fromEntries(
          proxies.map((proxy) => [
            `127.0.0.1:${proxy.targetPort}`,
            { host: '127.0.0.1', port: proxy.port },
          ]),
        ),
        slotsRefreshInterval: 60_000,
      },
    );
    cluster.on('error', () => {});
    const store = createRedisStore({ client: cluster, keyPrefix });
    try {
      const costs = await measureAll(store, counter);
      report('Redis store, Redis Cluster (3 masters):', costs);
      expectClusterCosts(costs);
    } finally {
      await store.close();
      cluster.disconnect();
    }
  });
});

/**
 * The per-slot round trips. deleteAll is left out: one call runs up to 10 SCAN batches per
 * master (SCAN, the drops, clearing pointers: 3 round trips a batch), and how many batches a
 * call needs depends on everything else in the keyspace of the shared test servers.
 */
function expectClusterCosts(costs: Map<string, Cost>): void {
  const roundTrips = Object.fromEntries(
    [...costs]
      .filter(([name]) => !name.startsWith('deleteAll'))
      .map(([name, cost]) => [name, cost.roundTrips]),
  );
  expect(roundTrips).toEqual({
    'findByTokenHash (current token)': 2,
    'findByTokenHash (unknown token)': 1,
    findById: 1,
    'insert (anonymous, first write)': 1,
    'insert (signed in, no replaces)': 2,
    // Create + claim, index ‖ drop of the anonymous session, clear its token pointer.
    'insert with replaces (login)': 3,
    // Create + claim, index, drop of the signed-in session once indexed, clear its pointers.
    'insert with replaces (regenerate)': 4,
    'login, limit not reached': 4,
    // As above, plus reading the user's records, and the evictions' own pointers.
    'login at the limit (evict-oldest)': 6,
    // Create + claim, index, reading the user's records, rolling back.
    'login at the limit (refuse)': 4,
    'update (touch)': 1,
    'update (rotation with retire)': 2,
    'update (stale version)': 1,
    delete: 2,
    'listByUser (4 sessions)': 2,
    'deleteByUser (4 sessions)': 3,
    purgeExpired: 1,
  });
}

describe.skipIf(!redisServerInstalled)('redis store costs: memory per session', () => {
  let server: ChildProcess;
  let port: number;
  let admin: Redis;

  beforeAll(async () => {
    port = await freePort();
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    admin = new Redis({ port, retryStrategy: (attempt) => Math.min(attempt * 50, 500) });
    admin.on('error', () => {});
    await admin.ping();
  });

  afterAll(async () => {
    await admin.quit();
    server.kill();
  });

  async function usedMemory(): Promise<number> {
    const info = await admin.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1]);
  }

  async function bytesPerSession(
    build: (index: number) => StoredSession,
    after?: (store: SessionStore, session: StoredSession) => Promise<void>,
  ): Promise<number> {
    await admin.flushall('SYNC');
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}` });
    try {
      await store.findById('warm-up');
      const before = await usedMemory();
      for (let start = 0; start < SESSIONS; start += 500) {
        await Promise.all(
          Array.from({ length: 500 }, async (_, offset) => {
            const session = build(start + offset);
            await store.insert(session, FRESH);
            if (after !== undefined) await after(store, session);
          }),
        );
      }
      expect(await admin.dbsize()).toBeGreaterThanOrEqual(SESSIONS * 2);
      return ((await usedMemory()) - before) / SESSIONS;
    } finally {
      await store.close();
    }
  }

  it(`stays within budget for ${SESSIONS} sessions with a ${SEALED_LENGTH}-byte sealed payload`, async () => {
    const signedIn = (index: number): Partial<StoredSession> => ({
      userId: `user-${String(index).padStart(8, '0')}`,
      authenticatedAt: NOW,
    });
    const measured = {
      anonymous: await bytesPerSession(() => makeSession()),
      'signed in, one session per user': await bytesPerSession((index) =>
        makeSession(signedIn(index)),
      ),
      'signed in, 10 sessions per user': await bytesPerSession((index) =>
        makeSession(signedIn(Math.floor(index / 10))),
      ),
      'signed in, after one rotation': await bytesPerSession(
        (index) => makeSession(signedIn(Math.floor(index / 10))),
        async (store, session) => {
          await store.update(
            { ...session, version: 2, tokenHash: tokenHash(), rotatedAt: NOW + 1 },
            { retire: { tokenHash: session.tokenHash, graceUntil: NOW + 30_000 } },
          );
        },
      ),
    };
    console.info(
      `Redis used_memory per session (${SESSIONS} sessions, sealed ${SEALED_LENGTH} bytes):\n` +
        Object.entries(measured)
          .map(([name, bytes]) => `  ${name.padEnd(34)} ${bytes.toFixed(0)} B`)
          .join('\n'),
    );
    // Ceilings about 10% above what Redis 7.0 with jemalloc measures today: a regression in the
    // record format or key layout shows here.
    expect(measured.anonymous).toBeLessThan(700);
    expect(measured['signed in, 10 sessions per user']).toBeLessThan(730);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
