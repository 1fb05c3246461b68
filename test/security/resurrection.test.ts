import { expect, it } from 'vitest';
import { SessionEndedError, type SessionManager } from '../../src/index.js';
import type { Session } from '../../src/core/session.js';
import type { SessionStore } from '../../src/core/store.js';
import { describeEachStore } from '../support/every-store.js';
import { randomBytes } from 'node:crypto';
import { createClock, createHarness, TEST_KEY, type Harness } from '../support/harness.js';

const NEW_KEY = { id: 'k2', secret: randomBytes(32).toString('base64url') };

/**
 * SM-31: a request that loaded a session before it was ended must not bring it back, whatever
 * it does next. Each case loads the session (the request "in flight"), ends it through another
 * path, then lets the in-flight request write. Records and deadlines are in real time because
 * the Redis stores expire keys by the server's clock.
 */

type Data = Record<string, unknown>;
type Ender = (h: Harness<Data>, victim: Session<Data>, userId: string) => Promise<unknown>;

const ENDERS: Record<string, Ender> = {
  'logout()': (h, victim) => h.manager.revokeSession(victim.id!),
  'revokeAllSessions() on another device': async (h, _victim, userId) => {
    const other = h.browser({ userAgent: 'Other/1.0' });
    await other.visit((s) => s.login(userId));
    await other.visit((s) => s.revokeAllSessions());
  },
  'manager.revokeUserSessions()': (h, _victim, userId) => h.manager.revokeUserSessions(userId),
  'manager.revokeAllSessions()': (h) => h.manager.revokeAllSessions(),
};

const WRITES: Record<string, (session: Session<Data>) => Promise<unknown>> = {
  'regenerate()': (s) => s.regenerate(),
  'login() over it': (s) => s.login('alice'),
  'set()': (s) => s.set('cart', ['apple']),
  'update()': (s) => s.update({ cart: ['pear'] }),
  'unset()': (s) => s.unset('theme'),
};

function harnessOn(store: SessionStore): Harness<Data> {
  const clock = createClock(Date.now());
  return createHarness<Data>({ store, runtime: { now: () => clock.now } });
}

async function liveSessionsOf(manager: SessionManager<Data>, userId: string): Promise<number> {
  return (await manager.listUserSessions(userId)).length;
}

describeEachStore('[SM-31] an ended session never comes back', (kind) => {
  for (const [enderName, end] of Object.entries(ENDERS)) {
    for (const [writeName, write] of Object.entries(WRITES)) {
      it(`[SM-31] ${writeName} after ${enderName} throws SessionEndedError and leaves nothing live`, async () => {
        const h = harnessOn(await kind.open());
        const browser = h.browser();
        await browser.visit(async (s) => {
          await s.login('alice');
          await s.set('theme', 'dark');
        });
        const token = browser.jar.get('__Host-sid')!;
        const { session: inFlight } = await browser.visit();

        await end(h, inFlight, 'alice');
        await expect(write(inFlight)).rejects.toBeInstanceOf(SessionEndedError);

        expect(await liveSessionsOf(h.manager, 'alice')).toBe(0);
        expect((await h.request(`__Host-sid=${token}`)).session.id).toBeNull();
        expect(h.events.some((e) => e.type === 'session.regenerated')).toBe(false);
      });
    }
  }

  it('[SM-31] a rotation, touch or re-seal racing a logout does not recreate the session', async () => {
    const store = await kind.open();
    const clock = createClock(Date.now());
    // The logout lands between the read of the record and the write of its refresh.
    let revokeBeforeUpdate: string | null = null;
    const racing: SessionStore = {
      ...store,
      findByTokenHash: (hash) => store.findByTokenHash(hash),
      findById: (id) => store.findById(id),
      insert: (session, options) => store.insert(session, options),
      async update(session, options) {
        if (revokeBeforeUpdate !== null) await store.delete(revokeBeforeUpdate);
        return store.update(session, options);
      },
      delete: (id) => store.delete(id),
      deleteByUser: (userId, options) => store.deleteByUser(userId, options),
      deleteAll: (options) => store.deleteAll(options),
      listByUser: (userId, now) => store.listByUser(userId, now),
      purgeExpired: (now, limit) => store.purgeExpired(now, limit),
      close: () => store.close(),
    };
    const options = {
      store: racing,
      runtime: { now: () => clock.now },
      rotationIntervalSeconds: 60,
      touchIntervalSeconds: 5,
    };
    const h = createHarness<Data>(options);
    // The same store under a new active key: reading re-seals under it.
    const rekeyed = createHarness<Data>({ ...options, keys: [NEW_KEY, TEST_KEY] });
    const cases = [
      { name: 'touch', seconds: 10, reader: h },
      { name: 'rotation', seconds: 61, reader: h },
      { name: 're-seal', seconds: 1, reader: rekeyed },
    ];
    for (const { name, seconds, reader } of cases) {
      const browser = h.browser();
      const { session } = await browser.visit((s) => s.login('alice'));
      const token = browser.jar.get('__Host-sid')!;
      clock.advance(seconds);
      revokeBeforeUpdate = session.id;
      const { session: refreshed } = await reader.request(`__Host-sid=${token}`);
      revokeBeforeUpdate = null;
      expect(refreshed.id, name).toBeNull();
      expect(await store.findById(session.id!), name).toBeNull();
      expect(await liveSessionsOf(h.manager, 'alice'), name).toBe(0);
    }
  });

  it('[SM-31] regenerate() that raced a concurrent write carries that write along', async () => {
    const h = harnessOn(await kind.open());
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    const { session: first } = await browser.visit();
    const { session: second } = await browser.visit();
    await second.set('cart', ['from another tab']);
    await first.regenerate();
    expect(first.get('cart')).toEqual(['from another tab']);
    expect(await liveSessionsOf(h.manager, 'alice')).toBe(1);
  });
});
