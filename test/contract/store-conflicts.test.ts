/**
 * An insert whose session id or current token hash another session already holds rejects with
 * a typed `StoreConflictError` (409) in the memory, SQLite and PostgreSQL stores, and changes
 * nothing: not a plain or driver error the core would report as "store unavailable" (503), and
 * never an overwrite of the other session. Redis and Redis Cluster have the same cases in
 * redis-conflicts.test.ts.
 */
import { expect, it } from 'vitest';
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
import { describeEachStore } from '../support/every-store.js';

/** The kinds of test/support/every-store.ts this file is about. */
const KINDS = new Set(['memory', 'sqlite', 'postgres']);

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

describeEachStore('insert conflicts', (kind) => {
  if (!KINDS.has(kind.name)) {
    // A suite without a test fails; the same cases run in redis-conflicts.test.ts.
    it.skip('is covered by redis-conflicts.test.ts', () => {});
    return;
  }

  let store: SessionStore;

  async function open(): Promise<SessionStore> {
    store = await kind.open();
    return store;
  }

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
    await open();
    const existing = await insert();
    const clash = makeSession({ id: existing.id });

    await expectConflict(store.insert(clash, FRESH), 'session id');

    await expectIntact(existing);
    expect(await store.findByTokenHash(clash.tokenHash)).toBeNull();
  });

  it('rejects a taken session id in a limited login that replaces a session, deleting nothing', async () => {
    await open();
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
    await open();
    const holder = await insert({ userId: randomId() });
    const clash = makeSession({ tokenHash: holder.tokenHash });

    await expectConflict(store.insert(clash, FRESH), 'token hash');

    await expectIntact(holder);
    expect(await store.findById(clash.id)).toBeNull();
  });

  it('rejects a taken token hash in a signed-in, limited or replacing insert, evicting nothing', async () => {
    await open();
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

  it('reports the session id when both the id and the token hash are taken', async () => {
    await open();
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

  it('takes over the id and token hash of the session it replaces: no conflict', async () => {
    await open();
    const replaced = await insert({ userId: randomId() });
    const successor = makeSession({ id: replaced.id, tokenHash: replaced.tokenHash });

    expect(await store.insert(successor, replacing(replaced))).toEqual({
      status: 'inserted',
      evicted: [],
    });

    await expectIntact(successor);
  });

  it('still reports a conflict (status, no error) for a stale replacement whose id it reuses', async () => {
    await open();
    const replaced = await insert();
    const successor = makeSession({ id: replaced.id });
    const stale = { replaces: { id: replaced.id, version: replaced.version + 1 }, limit: null };

    expect(await store.insert(successor, stale)).toEqual({ status: 'conflict' });

    await expectIntact(replaced);
  });
});
