import { expect, it, describe } from 'vitest';
import { SessionLimitError, TooManyRequestsError } from '../../src/index.js';
import type { SessionStore } from '../../src/core/store.js';
import { describeEachStore } from '../support/every-store.js';
import { createClock, createHarness } from '../support/harness.js';

const SID = '__Host-sid';

function harnessOn(store: SessionStore, options: Parameters<typeof createHarness>[0] = {}) {
  const clock = createClock(Date.now());
  return { clock, h: createHarness({ store, runtime: { now: () => clock.now }, ...options }) };
}

describeEachStore('[SM-34] sessions per user', (kind) => {
  it('[SM-34] evict-oldest: a third login ends the least recently used session', async () => {
    const { h, clock } = harnessOn(await kind.open(), {
      maxSessionsPerUser: 2,
      touchIntervalSeconds: 0,
    });
    const [a, b, c] = [h.browser(), h.browser(), h.browser()];
    await a.visit((s) => s.login('alice'));
    clock.advance(1);
    await b.visit((s) => s.login('alice'));
    clock.advance(1);
    await a.visit(); // a is used again: b is now the least recently used
    clock.advance(1);
    await c.visit((s) => s.login('alice'));

    expect((await a.visit()).session.userId).toBe('alice');
    expect((await b.visit()).session.userId).toBeNull();
    expect((await c.visit()).session.userId).toBe('alice');
    expect(h.events.filter((e) => e.reason === 'session-limit')).toHaveLength(1);
  });

  it('[SM-34] refuse: a third login throws SessionLimitError and changes nothing', async () => {
    const { h } = harnessOn(await kind.open(), {
      maxSessionsPerUser: 2,
      sessionLimitPolicy: 'refuse',
    });
    await h.browser().visit((s) => s.login('alice'));
    await h.browser().visit((s) => s.login('alice'));
    const third = h.browser();
    await third.visit((s) => s.set('cart', ['kept']));
    await expect(third.visit((s) => s.login('alice'))).rejects.toBeInstanceOf(SessionLimitError);
    expect((await third.visit()).session.get('cart')).toEqual(['kept']);
    expect(await h.manager.listUserSessions('alice')).toHaveLength(2);
    expect(h.events.some((e) => e.type === 'session.limit_reached')).toBe(true);
    // Re-authenticating on a device that is already counted is no new session.
    const first = h.browser();
    await expect(first.visit((s) => s.login('bob'))).resolves.toBeDefined();
  });

  it('[SM-34] 20 parallel logins never leave more than the cap alive', async () => {
    for (const policy of ['refuse', 'evict-oldest'] as const) {
      const { h } = harnessOn(await kind.open(), {
        maxSessionsPerUser: 3,
        sessionLimitPolicy: policy,
      });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => h.browser().visit((s) => s.login(`user-${policy}`))),
      );
      expect(await h.manager.listUserSessions(`user-${policy}`), policy).toHaveLength(3);
      const refused = results.filter((r) => r.status === 'rejected');
      expect(refused.length, policy).toBe(policy === 'refuse' ? 17 : 0);
    }
  });
});

describeEachStore('[SM-30] revoke every session of every user', (kind) => {
  it('[SM-30] manager.revokeAllSessions() ends all sessions, signed in and anonymous, in batches', async () => {
    const { h } = harnessOn(await kind.open());
    const browsers = Array.from({ length: 25 }, () => h.browser());
    await Promise.all(
      browsers.map((b, i) =>
        b.visit((s) => (i % 5 === 0 ? s.set('cart', []) : s.login(`u${i % 3}`))),
      ),
    );
    expect(await h.manager.revokeAllSessions({ batchSize: 4 })).toBe(25);
    for (const browser of browsers) expect((await browser.visit()).session.id).toBeNull();
    for (const user of ['u0', 'u1', 'u2'])
      expect(await h.manager.listUserSessions(user)).toEqual([]);
    expect(h.events.filter((e) => e.reason === 'revoke-all')).toHaveLength(25);
    // A login after it is unaffected.
    const later = h.browser();
    await later.visit((s) => s.login('u0'));
    expect((await later.visit()).session.userId).toBe('u0');
  });

  it('[SM-30] regenerations racing revokeAllSessions() leave no survivor', async () => {
    const { h } = harnessOn(await kind.open());
    const browsers = Array.from({ length: 15 }, () => h.browser());
    await Promise.all(browsers.map((b) => b.visit((s) => s.login('alice'))));
    const inFlight = await Promise.all(browsers.map(async (b) => (await b.visit()).session));
    await Promise.allSettled([
      h.manager.revokeAllSessions({ batchSize: 3 }),
      ...inFlight.map((s) => s.regenerate()),
    ]);
    expect(await h.manager.listUserSessions('alice')).toEqual([]);
  });
});

describe('[SM-55] token guessing', () => {
  it('[SM-55] unknown tokens past the limit get 429 and one session.guessing event, per client IP', async () => {
    const { h, clock } = harnessOn(
      (await import('../../src/stores/memory.js')).createMemoryStore(),
      {
        unknownTokenLimit: { perClient: 5, windowSeconds: 60 },
      },
    );
    const guess = (ip: string) =>
      h.request(`${SID}=${Buffer.alloc(32, Math.random() * 255).toString('base64url')}`, { ip });
    for (let i = 0; i < 5; i++) expect((await guess('198.51.100.1')).session.id).toBeNull();
    await expect(guess('198.51.100.1')).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(guess('198.51.100.1')).rejects.toMatchObject({ status: 429 });
    expect(h.events.filter((e) => e.type === 'session.guessing')).toHaveLength(1);
    // Another client is not affected; the window ends.
    expect((await guess('198.51.100.2')).session.id).toBeNull();
    clock.advance(61);
    expect((await guess('198.51.100.1')).session.id).toBeNull();
  });

  it('[SM-55] a blocked client makes no store lookups; visitors without a cookie are not blocked', async () => {
    const { h } = harnessOn((await import('../../src/stores/memory.js')).createMemoryStore(), {
      unknownTokenLimit: { perClient: 2, windowSeconds: 60 },
    });
    const token = (): string => Buffer.alloc(32, Math.random() * 255).toString('base64url');
    await h.request(`${SID}=${token()}`);
    await h.request(`${SID}=${token()}`);
    h.store.calls.length = 0;
    await expect(h.request(`${SID}=${token()}`)).rejects.toBeInstanceOf(TooManyRequestsError);
    expect(h.store.calls).toEqual([]);
    expect((await h.request(undefined)).session.id).toBeNull();
  });
});

describe('[SM-55] token guessing without a client address', () => {
  it('[SM-55] requests whose client IP is unknown are not counted in one shared bucket: a guesser cannot lock everyone out', async () => {
    const { h } = harnessOn((await import('../../src/stores/memory.js')).createMemoryStore(), {
      unknownTokenLimit: { perClient: 2, windowSeconds: 60 },
    });
    const alice = await h.request(undefined, { ip: null });
    await alice.session.login('alice');
    const token = (): string => Buffer.alloc(32, Math.random() * 255).toString('base64url');
    for (let i = 0; i < 10; i++)
      expect((await h.request(`${SID}=${token()}`, { ip: null })).session.id).toBeNull();
    // Every unknown token is still reported; only the per-client throttle needs an address.
    expect(h.events.filter((e) => e.type === 'session.unknown_token')).toHaveLength(10);
    expect(h.events.filter((e) => e.type === 'session.guessing')).toHaveLength(0);
    const issued = alice.cookies.get(SID)?.split(';', 1)[0] ?? '';
    const again = await h.request(issued, { ip: null });
    expect(again.session.userId).toBe('alice');
  });
});

describe('[SM-58] client binding', () => {
  it('[SM-58] detect: a session used from another User-Agent emits session.client_changed and keeps working', async () => {
    const { h } = harnessOn((await import('../../src/stores/memory.js')).createMemoryStore(), {
      clientBinding: 'detect',
    });
    const browser = h.browser({ userAgent: 'Firefox/140' });
    await browser.visit((s) => s.login('alice'));
    const token = browser.jar.get(SID)!;
    expect((await h.request(`${SID}=${token}`, { userAgent: 'curl/8' })).session.userId).toBe(
      'alice',
    );
    expect(h.events.find((e) => e.type === 'session.client_changed')).toMatchObject({
      userId: 'alice',
      reason: 'user-agent',
    });
  });

  it('[SM-58] strict: a stolen cookie replayed from another User-Agent ends the session for both', async () => {
    const { h } = harnessOn((await import('../../src/stores/memory.js')).createMemoryStore(), {
      clientBinding: 'strict',
    });
    const browser = h.browser({ userAgent: 'Firefox/140' });
    await browser.visit((s) => s.login('alice'));
    const token = browser.jar.get(SID)!;
    expect((await h.request(`${SID}=${token}`, { userAgent: 'curl/8' })).session.userId).toBeNull();
    expect((await browser.visit()).session.userId).toBeNull();
    expect(h.events.some((e) => e.reason === 'client-changed')).toBe(true);
  });

  it('[SM-58] off by default: a User-Agent change is neither reported nor punished', async () => {
    const { h } = harnessOn((await import('../../src/stores/memory.js')).createMemoryStore());
    const browser = h.browser({ userAgent: 'Firefox/140' });
    await browser.visit((s) => s.login('alice'));
    const token = browser.jar.get(SID)!;
    expect((await h.request(`${SID}=${token}`, { userAgent: 'Firefox/141' })).session.userId).toBe(
      'alice',
    );
    expect(h.events.some((e) => e.type === 'session.client_changed')).toBe(false);
  });
});
