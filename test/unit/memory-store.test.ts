import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import type { SessionStore, StoredSession } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';

const NOW = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function makeSession(overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    id: randomBytes(16).toString('base64url'),
    tokenHash: createHash('sha256').update(randomBytes(32)).digest('base64url'),
    userId: null,
    createdAt: NOW,
    authenticatedAt: null,
    lastSeenAt: NOW,
    idleExpiresAt: NOW + 30 * MINUTE,
    absoluteExpiresAt: NOW + 12 * 60 * MINUTE,
    rotatedAt: NOW,
    version: 1,
    sealed: 'sealed',
    ...overrides,
  };
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const FRESH = { replaces: null, limit: null } as const;

describe('memory store eviction', () => {
  /** A store whose clock reads NOW, so that "expired" is decided without the real clock. */
  function boundedStore(maxSessions: number) {
    return createMemoryStore({ maxSessions, now: () => NOW });
  }

  async function fill(store: SessionStore, sessions: readonly StoredSession[]): Promise<void> {
    for (const session of sessions) {
      expect(await store.insert(session, FRESH)).toEqual({ status: 'inserted', evicted: [] });
    }
  }

  it('[SM-57] never evicts a live signed-in session, however many anonymous ones arrive', async () => {
    const store = boundedStore(3);
    const signedIn = [makeSession({ userId: 'alice' }), makeSession({ userId: 'bob' })];
    await fill(store, signedIn);

    const flood = Array.from({ length: 50 }, () => makeSession());
    await fill(store, flood);

    for (const session of signedIn) expect(await store.findById(session.id)).toEqual(session);
    expect(await store.findById(flood.at(-1)!.id)).toEqual(flood.at(-1));
    expect(await store.findById(flood.at(-2)!.id)).toBeNull();
  });

  it('[SM-57] evicts the anonymous session inserted longest ago first, whatever its deadline', async () => {
    const store = boundedStore(3);
    const first = makeSession({ idleExpiresAt: NOW + 60 * MINUTE });
    const second = makeSession({ idleExpiresAt: NOW + MINUTE });
    const signedIn = makeSession({ userId: 'alice', idleExpiresAt: NOW + MINUTE });
    await fill(store, [first, second, signedIn]);

    const newcomer = makeSession();
    await fill(store, [newcomer]);

    expect(await store.findById(first.id)).toBeNull();
    for (const kept of [second, signedIn, newcomer]) {
      expect(await store.findById(kept.id)).toEqual(kept);
    }
  });

  it('[SM-57] drops expired sessions before any anonymous one, signed-in or not', async () => {
    const store = boundedStore(3);
    const anonymous = makeSession();
    const expiredSignedIn = makeSession({ userId: 'alice', idleExpiresAt: NOW - MINUTE });
    const expiredAnonymous = makeSession({ absoluteExpiresAt: NOW });
    await fill(store, [anonymous, expiredSignedIn, expiredAnonymous]);

    await fill(store, [makeSession(), makeSession()]);

    expect(await store.findById(expiredSignedIn.id)).toBeNull();
    expect(await store.findById(expiredAnonymous.id)).toBeNull();
    expect(await store.findById(anonymous.id)).toEqual(anonymous);
  });

  it('[SM-57] rejects an insert, changing nothing, when every session is live and signed in', async () => {
    const store = boundedStore(2);
    const signedIn = [makeSession({ userId: 'alice' }), makeSession({ userId: 'bob' })];
    await fill(store, signedIn);

    const refused = makeSession();
    await expect(store.insert(refused, FRESH)).rejects.toThrow(
      'The memory session store is full: maxSessions (2) signed-in sessions are live',
    );
    await expect(store.insert(makeSession({ userId: 'carol' }), FRESH)).rejects.toThrow(/is full/);

    expect(await store.findById(refused.id)).toBeNull();
    for (const session of signedIn) expect(await store.findById(session.id)).toEqual(session);
  });

  it('[SM-57] a full store of signed-in sessions still serves logins that replace one', async () => {
    const store = boundedStore(2);
    const alice = makeSession({ userId: 'alice' });
    const bob = makeSession({ userId: 'bob' });
    await fill(store, [alice, bob]);

    const regenerated = makeSession({ userId: 'alice' });
    const replaces = { id: alice.id, version: alice.version };
    expect(await store.insert(regenerated, { replaces, limit: null })).toEqual({
      status: 'inserted',
      evicted: [],
    });

    expect(await store.findById(regenerated.id)).toEqual(regenerated);
    expect(await store.findById(bob.id)).toEqual(bob);
  });

  it('follows a session that signs in (update) out of the anonymous eviction order', async () => {
    const store = boundedStore(2);
    const first = makeSession();
    const second = makeSession();
    await fill(store, [first, second]);
    const signedIn = { ...first, version: 2, userId: 'alice', authenticatedAt: NOW };
    expect(await store.update(signedIn, { retire: null })).toBe(true);

    await fill(store, [makeSession()]);

    expect(await store.findById(second.id)).toBeNull();
    expect(await store.findById(first.id)).toEqual(signedIn);
  });

  it('follows deadlines moved by update: a session extended past now is no longer expired', async () => {
    const store = boundedStore(2);
    const revived = makeSession({ userId: 'alice', idleExpiresAt: NOW - MINUTE });
    const expired = makeSession({ userId: 'bob', idleExpiresAt: NOW - 2 * MINUTE });
    await fill(store, [revived, expired]);
    const extended = { ...revived, version: 2, idleExpiresAt: NOW + 60 * MINUTE };
    expect(await store.update(extended, { retire: null })).toBe(true);

    await fill(store, [makeSession()]);

    expect(await store.findById(expired.id)).toBeNull();
    expect(await store.findById(revived.id)).toEqual(extended);
  });

  it('removes every trace of an evicted session: tokens, retired tokens, user index', async () => {
    const store = boundedStore(1);
    const user = 'user-1';
    const session = makeSession({ userId: user, idleExpiresAt: NOW - MINUTE });
    await fill(store, [session]);
    const rotated = { ...session, version: 2, tokenHash: makeSession().tokenHash };
    await store.update(rotated, { retire: { tokenHash: session.tokenHash, graceUntil: NOW } });

    await fill(store, [makeSession()]);

    expect(await store.findByTokenHash(session.tokenHash)).toBeNull();
    expect(await store.findByTokenHash(rotated.tokenHash)).toBeNull();
    expect(await store.listByUser(user, NOW - HOUR)).toEqual([]);
    expect(await store.deleteByUser(user, { except: null })).toEqual([]);
  });

  it('does not evict anyone when insert replaces a session in a full store', async () => {
    const store = boundedStore(2);
    const bystander = makeSession({ idleExpiresAt: NOW + MINUTE });
    const anonymous = makeSession();
    await fill(store, [bystander, anonymous]);

    const signedIn = makeSession({ userId: 'user-1' });
    const replaces = { id: anonymous.id, version: anonymous.version };
    await store.insert(signedIn, { replaces, limit: null });

    expect(await store.findById(bystander.id)).toEqual(bystander);
    expect(await store.findById(signedIn.id)).toEqual(signedIn);
  });

  it('still drops the expired session first after many updates (stale deadlines are compacted away)', async () => {
    const store = boundedStore(3);
    const busy = makeSession({ userId: 'alice' });
    const expired = makeSession({ userId: 'bob', idleExpiresAt: NOW - MINUTE });
    const other = makeSession({ userId: 'carol' });
    await fill(store, [busy, expired, other]);
    let current = busy;
    for (let step = 1; step <= 5_000; step++) {
      // Deadlines that pass and come back, so every update leaves a stale heap node behind.
      const idleExpiresAt = NOW + (step % 2 === 0 ? step : -step) * 1_000;
      const next = { ...current, version: current.version + 1, idleExpiresAt };
      expect(await store.update(next, { retire: null })).toBe(true);
      current = next;
    }
    const extended = { ...current, version: current.version + 1, idleExpiresAt: NOW + MINUTE };
    expect(await store.update(extended, { retire: null })).toBe(true);

    await fill(store, [makeSession()]);

    expect(await store.findById(expired.id)).toBeNull();
    expect(await store.findById(busy.id)).toEqual(extended);
    expect(await store.findById(other.id)).toEqual(other);
  });

  it('drops expired sessions when listByUser meets them', async () => {
    const store = createMemoryStore();
    const expired = makeSession({ userId: 'user-1', idleExpiresAt: NOW - MINUTE });
    await store.insert(expired, FRESH);

    expect(await store.listByUser('user-1', NOW)).toEqual([]);
    expect(await store.findById(expired.id)).toBeNull();
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxSessions %s with a ConfigError', (maxSessions) => {
    expect(() => createMemoryStore({ maxSessions })).toThrow(ConfigError);
  });
});

describe('memory store production warning', () => {
  async function freshModule() {
    vi.resetModules();
    return import('../../src/stores/memory.js');
  }

  it('is not emitted outside production', async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    vi.stubEnv('NODE_ENV', 'development');
    const memory = await freshModule();
    await memory.createMemoryStore().close();
    expect(emitWarning).not.toHaveBeenCalled();
  });

  it('is emitted once per process when NODE_ENV is production', async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    vi.stubEnv('NODE_ENV', 'production');
    const memory = await freshModule();
    await memory.createMemoryStore().close();
    await memory.createMemoryStore({ maxSessions: 5 }).close();

    expect(emitWarning).toHaveBeenCalledTimes(1);
    expect(emitWarning).toHaveBeenCalledWith(expect.stringContaining('in production'), {
      type: 'StrongroomWarning',
      code: 'STRONGROOM_MEMORY_STORE',
    });
  });
});
