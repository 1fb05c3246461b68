import { createHash, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { resolveKeyRing } from '../../src/core/key-ring.js';
import { systemRuntime } from '../../src/core/runtime.js';
import type { SessionStore, StoredSession } from '../../src/core/store.js';
import { describeEachStore } from '../support/every-store.js';
import { createClock, createHarness, TEST_KEY, type Harness } from '../support/harness.js';

/**
 * SM-50, SM-51: someone who can write to the store, but holds no key, can neither mint a
 * session, nor move one to another user, nor extend one. Every field that matters is bound to
 * the record's ciphertext, and token hashes are keyed.
 */

const SID = '__Host-sid';
const YEAR = 365 * 24 * 3600 * 1000;

type H = Harness<Record<string, unknown>>;

interface Setup {
  readonly h: H;
  readonly store: SessionStore;
  readonly alice: { readonly token: string; readonly record: StoredSession };
  readonly mallory: { readonly token: string; readonly record: StoredSession };
}

async function signIn(h: H, store: SessionStore, userId: string): Promise<Setup['alice']> {
  const browser = h.browser();
  const { session } = await browser.visit((s) => s.login(userId));
  return { token: browser.jar.get(SID)!, record: (await store.findById(session.id!))! };
}

async function setUp(store: SessionStore): Promise<Setup> {
  const clock = createClock(Date.now());
  const h = createHarness({ store, runtime: { now: () => clock.now } });
  return {
    h,
    store,
    alice: await signIn(h, store, 'alice'),
    mallory: await signIn(h, store, 'mallory'),
  };
}

/** What the writer does: replace the stored record with the given fields, bumping the version. */
async function overwrite(
  store: SessionStore,
  record: StoredSession,
  changes: Partial<StoredSession>,
): Promise<void> {
  const current = (await store.findById(record.id))!;
  expect(
    await store.update({ ...current, ...changes, version: current.version + 1 }, { retire: null }),
  ).toBe(true);
}

async function userOf(h: H, token: string): Promise<string | null> {
  return (await h.request(`${SID}=${token}`)).session.userId;
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

describeEachStore('[SM-51] a store writer without the keys', (kind) => {
  it('[SM-51] cannot move a session to another user by changing its user id', async () => {
    const { h, store, mallory } = await setUp(await kind.open());
    await overwrite(store, mallory.record, { userId: 'alice' });
    expect(await userOf(h, mallory.token)).toBeNull();
    expect(h.events.some((e) => e.type === 'session.tampered')).toBe(true);
  });

  it('[SM-50] cannot make a token of its choosing work: hashes are keyed, SHA-256 of the token is not the key', async () => {
    const { h, store, alice } = await setUp(await kind.open());
    const chosen = randomBytes(32).toString('base64url');
    expect(alice.record.tokenHash).not.toBe(sha256(alice.token));
    expect(alice.record.tokenHash).not.toBe(alice.token);
    await overwrite(store, alice.record, { tokenHash: sha256(chosen) });
    expect(await userOf(h, chosen)).toBeNull();
    // Nor by inserting a record of its own under SHA-256 of the token, copying a real blob.
    const forged = {
      ...alice.record,
      id: randomBytes(16).toString('base64url'),
      tokenHash: sha256(randomBytes(8).toString('hex')),
    };
    await store.insert(forged, { replaces: null, limit: null });
    expect(await userOf(h, chosen)).toBeNull();
  });

  it("[SM-51] cannot put its own token on another user's session", async () => {
    const { h, store, alice, mallory } = await setUp(await kind.open());
    await store.delete(mallory.record.id);
    await overwrite(store, alice.record, { tokenHash: mallory.record.tokenHash });
    expect(await userOf(h, mallory.token)).toBeNull();
    expect(await userOf(h, alice.token)).toBeNull();
  });

  it("[SM-51] cannot plant its own token as a rotated-out token of another user's session", async () => {
    const { h, store, alice, mallory } = await setUp(await kind.open());
    await store.delete(mallory.record.id);
    const current = (await store.findById(alice.record.id))!;
    await store.update(
      { ...current, version: current.version + 1 },
      { retire: { tokenHash: mallory.record.tokenHash, graceUntil: Date.now() + YEAR } },
    );
    expect(await userOf(h, mallory.token)).not.toBe('alice');
  });

  it.each([
    [
      'idle deadline 10 years ahead',
      (r: StoredSession) => ({ idleExpiresAt: r.idleExpiresAt + 10 * YEAR }),
    ],
    [
      'absolute deadline 10 years ahead',
      (r: StoredSession) => ({ absoluteExpiresAt: r.absoluteExpiresAt + 10 * YEAR }),
    ],
    [
      'authenticated at "now" (a fresh login)',
      (r: StoredSession) => ({ authenticatedAt: (r.authenticatedAt ?? 0) + 60_000 }),
    ],
    [
      'created later (a longer absolute life)',
      (r: StoredSession) => ({ createdAt: r.createdAt + 60_000 }),
    ],
    ['last rotation in the future', (r: StoredSession) => ({ rotatedAt: r.rotatedAt + YEAR })],
  ])('[SM-51] cannot extend or refresh a session: %s is refused', async (_name, change) => {
    const { h, store, alice } = await setUp(await kind.open());
    await overwrite(store, alice.record, change(alice.record));
    expect(await userOf(h, alice.token)).toBeNull();
    expect(h.events.some((e) => e.type === 'session.tampered')).toBe(true);
  });

  it('[SM-51] a record whose absolute deadline exceeds the configured absolute timeout is refused, even when it authenticates', async () => {
    const { h, store, alice } = await setUp(await kind.open());
    expect(await userOf(h, alice.token)).toBe('alice');
    const clock = createClock(Date.now());
    const stricter = createHarness({
      store,
      runtime: { now: () => clock.now },
      absoluteTimeoutSeconds: 3600,
      idleTimeoutSeconds: 1800,
    });
    expect(await userOf(stricter, alice.token)).toBeNull();
  });

  it('[SM-50] a record written by Strongroom 0.1 (SHA-256 token hash, id-only associated data) fails closed', async () => {
    const store = await kind.open();
    const clock = createClock(Date.now());
    const h = createHarness({ store, runtime: { now: () => clock.now } });
    const token = randomBytes(32).toString('base64url');
    const id = randomBytes(16).toString('base64url');
    const ring = resolveKeyRing([TEST_KEY], systemRuntime, [])!;
    const legacyPayload = JSON.stringify({
      d: {},
      i: null,
      u: null,
      c: randomBytes(32).toString('base64url'),
      p: 0,
    });
    const now = clock.now;
    await store.insert(
      {
        id,
        tokenHash: sha256(token),
        userId: 'alice',
        createdAt: now,
        authenticatedAt: now,
        lastSeenAt: now,
        idleExpiresAt: now + 1800_000,
        absoluteExpiresAt: now + 43_200_000,
        rotatedAt: now,
        version: 1,
        sealed: ring.seal(legacyPayload, id),
      },
      { replaces: null, limit: null },
    );
    const { session, cookies } = await h.request(`${SID}=${token}`);
    expect(session.userId).toBeNull();
    expect(cookies.get(SID)).toMatch(/Max-Age=0/);
    expect(h.events.some((e) => e.type === 'session.unknown_token')).toBe(true);
  });
});
