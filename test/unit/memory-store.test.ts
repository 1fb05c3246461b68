import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import type { StoredSession } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';

const NOW = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;

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

describe('memory store eviction', () => {
  it('evicts the session whose deadline comes soonest when maxSessions is reached', async () => {
    const store = createMemoryStore({ maxSessions: 3 });
    const late = makeSession({ idleExpiresAt: NOW + 30 * MINUTE });
    const soonest = makeSession({ idleExpiresAt: NOW + 10 * MINUTE });
    const middle = makeSession({ absoluteExpiresAt: NOW + 20 * MINUTE });
    for (const session of [late, soonest, middle]) await store.insert(session, { replaces: null });

    const newcomer = makeSession();
    await store.insert(newcomer, { replaces: null });

    expect(await store.findById(soonest.id)).toBeNull();
    for (const kept of [late, middle, newcomer]) {
      expect(await store.findById(kept.id)).toEqual(kept);
    }
  });

  it('evicts expired sessions before live ones, whatever the insertion order', async () => {
    const store = createMemoryStore({ maxSessions: 2 });
    const live = makeSession();
    const expired = makeSession({ idleExpiresAt: NOW - MINUTE });
    await store.insert(live, { replaces: null });
    await store.insert(expired, { replaces: null });

    await store.insert(makeSession(), { replaces: null });

    expect(await store.findById(expired.id)).toBeNull();
    expect(await store.findById(live.id)).toEqual(live);
  });

  it('follows deadlines moved by update', async () => {
    const store = createMemoryStore({ maxSessions: 2 });
    const first = makeSession({ idleExpiresAt: NOW + 5 * MINUTE });
    const second = makeSession({ idleExpiresAt: NOW + 10 * MINUTE });
    await store.insert(first, { replaces: null });
    await store.insert(second, { replaces: null });
    const extended = { ...first, version: 2, idleExpiresAt: NOW + 60 * MINUTE };
    expect(await store.update(extended, { retire: null })).toBe(true);

    await store.insert(makeSession(), { replaces: null });

    expect(await store.findById(second.id)).toBeNull();
    expect(await store.findById(first.id)).toEqual(extended);
  });

  it('removes every trace of an evicted session: tokens, retired tokens, user index', async () => {
    const store = createMemoryStore({ maxSessions: 1 });
    const user = 'user-1';
    const session = makeSession({ userId: user, idleExpiresAt: NOW + MINUTE });
    await store.insert(session, { replaces: null });
    const rotated = { ...session, version: 2, tokenHash: makeSession().tokenHash };
    await store.update(rotated, { retire: { tokenHash: session.tokenHash, graceUntil: NOW } });

    await store.insert(makeSession(), { replaces: null });

    expect(await store.findByTokenHash(session.tokenHash)).toBeNull();
    expect(await store.findByTokenHash(rotated.tokenHash)).toBeNull();
    expect(await store.listByUser(user, NOW)).toEqual([]);
    expect(await store.deleteByUser(user, { except: null })).toEqual([]);
  });

  it('does not evict anyone when insert replaces a session in a full store', async () => {
    const store = createMemoryStore({ maxSessions: 2 });
    const bystander = makeSession({ idleExpiresAt: NOW + MINUTE });
    const anonymous = makeSession();
    await store.insert(bystander, { replaces: null });
    await store.insert(anonymous, { replaces: null });

    const signedIn = makeSession({ userId: 'user-1' });
    await store.insert(signedIn, { replaces: anonymous.id });

    expect(await store.findById(bystander.id)).toEqual(bystander);
    expect(await store.findById(signedIn.id)).toEqual(signedIn);
  });

  it('still evicts correctly after many updates (stale deadlines are compacted away)', async () => {
    const store = createMemoryStore({ maxSessions: 3 });
    const busy = makeSession();
    const idle = makeSession({ idleExpiresAt: NOW + 40 * MINUTE });
    const other = makeSession({ idleExpiresAt: NOW + 50 * MINUTE });
    for (const session of [busy, idle, other]) await store.insert(session, { replaces: null });
    let current = busy;
    for (let step = 1; step <= 5_000; step++) {
      const next = { ...current, version: current.version + 1, idleExpiresAt: NOW + step * 1_000 };
      expect(await store.update(next, { retire: null })).toBe(true);
      current = next;
    }

    await store.insert(makeSession(), { replaces: null });

    expect(await store.findById(idle.id)).toBeNull();
    expect(await store.findById(busy.id)).toEqual(current);
    expect(await store.findById(other.id)).toEqual(other);
  });

  it('drops expired sessions when listByUser meets them', async () => {
    const store = createMemoryStore();
    const expired = makeSession({ userId: 'user-1', idleExpiresAt: NOW - MINUTE });
    await store.insert(expired, { replaces: null });

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
