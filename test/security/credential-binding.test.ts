import { expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import { StoreUnavailableError } from '../../src/store.js';
import type { SessionStore } from '../../src/core/store.js';
import { describeEachStore } from '../support/every-store.js';
import { createClock, createHarness } from '../support/harness.js';

/**
 * SM-28: a session is bound to the credential it was made with (Django's session auth hash).
 * A login that checked the old password while the password changed dies on its next request,
 * however the two raced.
 */

const SID = '__Host-sid';

/** A tiny user table: the credential is the password "hash", read atomically with the check. */
function accounts(): {
  passwords: Map<string, string>;
  check(userId: string, password: string): Promise<string | null>;
} {
  const passwords = new Map([['alice', 'old-hash']]);
  return {
    passwords,
    async check(userId, password) {
      await new Promise((resolve) => setImmediate(resolve));
      const stored = passwords.get(userId);
      return stored === `${password}-hash` ? stored : null;
    },
  };
}

function setUp(store: SessionStore, users = accounts()) {
  const clock = createClock(Date.now());
  const h = createHarness({
    store,
    runtime: { now: () => clock.now },
    currentCredential: (userId) => users.passwords.get(userId) ?? null,
  });
  return { h, users };
}

describeEachStore('[SM-28] credential binding', (kind) => {
  it('[SM-28] a login that checked the old password dies once the password has changed, whatever the order', async () => {
    const { h, users } = setUp(await kind.open());
    const device = h.browser();
    await device.visit(async (s) => {
      await s.login('alice', { credential: (await users.check('alice', 'old'))! });
    });

    // Twelve logins check the old password; half of them sign in before the password change
    // has revoked the other sessions, half after it (the race the review reproduced).
    let changed!: () => void;
    const passwordChanged = new Promise<void>((resolve) => (changed = resolve));
    const racers = Array.from({ length: 12 }, () => h.browser({ userAgent: 'Racer/1.0' }));
    const logins = racers.map((browser, index) =>
      browser.visit(async (s) => {
        const credential = await users.check('alice', 'old');
        if (index % 2 === 1) await passwordChanged;
        if (credential !== null) await s.login('alice', { credential });
      }),
    );
    const change = device.visit(async (s) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      users.passwords.set('alice', 'new-hash');
      await s.revokeOtherSessions();
      await s.regenerate({ credential: 'new-hash' });
      changed();
    });
    await Promise.all([...logins, change]);

    for (const browser of racers) {
      const token = browser.jar.get(SID);
      if (token !== undefined)
        expect((await h.request(`${SID}=${token}`)).session.userId).toBeNull();
    }
    expect((await device.visit()).session.userId).toBe('alice');
    const live = await h.manager.listUserSessions('alice');
    expect(live.filter((s) => s.userAgent === 'Racer/1.0')).toEqual([]);
    expect(h.events.some((e) => e.reason === 'credential-changed')).toBe(true);
  });

  it('[SM-28] a disabled or deleted account (null credential) ends its sessions', async () => {
    const { h, users } = setUp(await kind.open());
    const browser = h.browser();
    await browser.visit((s) => s.login('alice', { credential: 'old-hash' }));
    expect((await browser.visit()).session.userId).toBe('alice');
    users.passwords.delete('alice');
    expect((await browser.visit()).session.userId).toBeNull();
    expect(await h.manager.listUserSessions('alice')).toEqual([]);
  });
});

it('[SM-28] login() without the credential is refused when the manager checks one', async () => {
  const { h } = setUp((await import('../../src/stores/memory.js')).createMemoryStore());
  const { session } = await h.request(undefined);
  await expect(session.login('alice')).rejects.toBeInstanceOf(InvalidArgumentError);
});

it('[SM-57] a failing credential check fails closed with 503', async () => {
  const clock = createClock(Date.now());
  let down = false;
  const h = createHarness({
    runtime: { now: () => clock.now },
    currentCredential: () => {
      if (down) throw new Error('users database unreachable');
      return 'hash';
    },
  });
  const browser = h.browser();
  await browser.visit((s) => s.login('alice', { credential: 'hash' }));
  down = true;
  await expect(browser.visit()).rejects.toBeInstanceOf(StoreUnavailableError);
  down = false;
  expect((await browser.visit()).session.userId).toBe('alice');
});
