import { describe, expect, it } from 'vitest';
import { SessionEndedError } from '../../src/core/errors.js';
import { createHarness } from '../support/harness.js';

describe('Session.reload()', () => {
  it('shows what a concurrent request of the same browser wrote after this one loaded', async () => {
    const harness = createHarness<{ a: number; b: number }>();
    const browser = harness.browser();
    await browser.visit((session) => session.set('a', 1));
    const { session: first } = await harness.request(browser.cookieHeader());
    await browser.visit((session) => session.set('b', 2));
    expect(first.data).toEqual({ a: 1 });
    await first.reload();
    expect(first.data).toEqual({ a: 1, b: 2 });
  });

  it('[SM-31] throws SessionEndedError for a session revoked meanwhile, and forgets it', async () => {
    const harness = createHarness();
    const browser = harness.browser();
    await browser.visit((session) => session.login('alice'));
    const { session, cookies } = await harness.request(browser.cookieHeader());
    await harness.manager.revokeUserSessions('alice');
    await expect(session.reload()).rejects.toBeInstanceOf(SessionEndedError);
    expect(session.id).toBeNull();
    expect(cookies.get('__Host-sid')).toMatch(/Max-Age=0/);
  });

  it('does nothing for a visitor without a session', async () => {
    const harness = createHarness();
    const { session } = await harness.request(undefined);
    harness.store.calls.length = 0;
    await session.reload();
    expect(harness.store.calls).toEqual([]);
  });
});

describe('Session.regenerate({ cookie })', () => {
  it('[SM-10] switches the cookie to persistent and back, with a new token each time', async () => {
    const harness = createHarness();
    const browser = harness.browser();
    await browser.visit((session) => session.login('alice'));
    const first = browser.jar.get('__Host-sid');
    const { session, cookies } = await harness.request(browser.cookieHeader());
    expect(session.isPersistent).toBe(false);
    await session.regenerate({ cookie: 'persistent' });
    expect(session.isPersistent).toBe(true);
    const persistent = cookies.get('__Host-sid') ?? '';
    const maxAge = Number(/Max-Age=(\d+)/.exec(persistent)?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(12 * 3600);
    expect(persistent.split(';')[0]).not.toBe(`__Host-sid=${first}`);
    await session.regenerate({ cookie: 'browser-session' });
    expect(session.isPersistent).toBe(false);
    expect(cookies.get('__Host-sid')).not.toMatch(/Max-Age/);
    await session.regenerate();
    expect(session.isPersistent).toBe(false);
  });
});
