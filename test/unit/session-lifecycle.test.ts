import { describe, expect, it } from 'vitest';
import {
  InsecureTransportError,
  ReauthenticationRequiredError,
  SessionEndedError,
} from '../../src/index.js';
import { createHash } from 'node:crypto';
import { resolveKeyRing } from '../../src/core/key-ring.js';
import { systemRuntime } from '../../src/core/runtime.js';
import { createHarness, TEST_KEY } from '../support/harness.js';

interface AppData extends Record<string, unknown> {
  cart: string[];
  theme: string;
  role: string;
}

const SID = '__Host-sid';

describe('lazy creation', () => {
  it('a visitor who stores nothing costs no write and gets no cookie', async () => {
    const h = createHarness<AppData>();
    const { session, cookies } = await h.request(undefined);
    expect(session.id).toBeNull();
    expect(session.get('cart')).toBeUndefined();
    expect(cookies.size).toBe(0);
    expect(h.store.calls).toEqual([]);
  });

  it('the first write creates the session and issues the cookie', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    const { session } = await browser.visit((s) => s.set('cart', ['apple']));
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(session.userId).toBeNull();
    expect(browser.jar.get(SID)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { session: again } = await browser.visit();
    expect(again.get('cart')).toEqual(['apple']);
    expect(h.events.map((e) => e.type)).toContain('session.created');
  });
});

describe('reading data', () => {
  it('values read from a session are frozen: changes go through set()', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    await browser.visit((s) => s.set('cart', ['apple']));
    const { session } = await browser.visit();
    expect(() => session.get('cart')!.push('pear')).toThrow(TypeError);
    await browser.visit((s) => s.set('cart', [...s.get('cart')!, 'pear']));
    expect((await browser.visit()).session.get('cart')).toEqual(['apple', 'pear']);
  });

  it('a read-heavy session is decrypted once per write, and a tampered record is still caught', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    const { session: created } = await browser.visit((s) => s.set('theme', 'dark'));
    const first = (await browser.visit()).session.data;
    expect((await browser.visit()).session.data).toBe(first);
    const record = (await h.store.findById(created.id!))!;
    const flipped =
      record.sealed.slice(0, -2) +
      (record.sealed.endsWith('A') ? 'B' : 'A') +
      record.sealed.slice(-1);
    await h.store.update(
      { ...record, sealed: flipped, version: record.version + 1 },
      { retire: null },
    );
    expect((await browser.visit()).session.id).toBeNull();
  });
});

describe('login and privilege changes', () => {
  it('[SM-16] login issues a new token and a new session id and kills the old token at once', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    const { session: before } = await browser.visit((s) => s.set('cart', ['apple']));
    const t0 = browser.jar.get(SID)!;
    const { session } = await browser.visit((s) => s.login('alice'));
    const t1 = browser.jar.get(SID)!;
    expect(t1).not.toBe(t0);
    expect(session.id).not.toBe(before.id);
    expect(session.userId).toBe('alice');
    expect((await h.request(`${SID}=${t0}`)).session.id).toBeNull();
    expect((await h.request(`${SID}=${t1}`)).session.userId).toBe('alice');
    expect(await h.store.findById(before.id!)).toBeNull();
  });

  it('[SM-18] login carries over only the keys the app names', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    await browser.visit((s) => s.update({ cart: ['apple'], role: 'admin' }));
    const { session } = await browser.visit((s) => s.login('alice', { keep: ['cart'] }));
    expect(session.data).toEqual({ cart: ['apple'] });
  });

  it('login can store data in the same write', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    await browser.visit((s) => s.set('cart', ['apple']));
    h.store.calls.length = 0;
    const { session } = await browser.visit((s) =>
      s.login('alice', { keep: ['cart'], data: { theme: 'dark' } }),
    );
    expect(session.data).toEqual({ cart: ['apple'], theme: 'dark' });
    expect(h.store.calls.map((c) => c.method)).toEqual(['findByTokenHash', 'insert']);
  });

  it('[SM-17] another user signing in over a session gets none of its data, and the old token dies', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    await browser.visit(async (s) => {
      await s.login('alice');
      await s.set('theme', 'dark');
    });
    const aliceToken = browser.jar.get(SID)!;
    const { session } = await browser.visit((s) => s.login('bob'));
    expect(session.userId).toBe('bob');
    expect(session.data).toEqual({});
    expect((await h.request(`${SID}=${aliceToken}`)).session.id).toBeNull();
  });

  it('[SM-17] regenerate() gives a new token and id, keeps user, data and deadlines', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    const { session: first } = await browser.visit(async (s) => {
      await s.login('alice');
      await s.set('role', 'user');
    });
    const oldToken = browser.jar.get(SID)!;
    h.clock.advance(10);
    const { session } = await browser.visit((s) => s.regenerate());
    expect(session.id).not.toBe(first.id);
    expect(browser.jar.get(SID)).not.toBe(oldToken);
    expect(session.userId).toBe('alice');
    expect(session.get('role')).toBe('user');
    expect(session.absoluteExpiresAt).toEqual(first.absoluteExpiresAt);
    expect(session.authenticatedAt).toEqual(first.authenticatedAt);
    expect((await h.request(`${SID}=${oldToken}`)).session.id).toBeNull();
  });

  it('[SM-19] the CSRF secret is renewed at login: a pre-login token stops working', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    const { result: c0 } = await browser.visit((s) => s.csrfToken());
    const { session: pre } = await browser.visit();
    expect(pre.verifyCSRFToken(c0)).toBe(true);
    await browser.visit((s) => s.login('alice'));
    const { session } = await browser.visit();
    expect(session.verifyCSRFToken(c0)).toBe(false);
    expect(session.verifyCSRFToken(session.csrfToken())).toBe(true);
  });

  it('[SM-45] the pre-session CSRF cookie is HttpOnly and expired once a session exists', async () => {
    const h = createHarness<AppData>();
    const { session, cookies } = await h.request(undefined);
    session.csrfToken();
    expect(cookies.get('__Host-sid-csrf')).toMatch(
      /^__Host-sid-csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
    );
    const browser = h.browser();
    await browser.visit((s) => s.csrfToken());
    expect(browser.jar.has('__Host-sid-csrf')).toBe(true);
    await browser.visit((s) => s.login('alice'));
    expect(browser.jar.has('__Host-sid-csrf')).toBe(false);
  });

  it('[SM-32] isFresh / requireFresh follow the fresh age from the last login', async () => {
    const h = createHarness<AppData>({ freshAgeSeconds: 300, rotationIntervalSeconds: 10_000 });
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    h.clock.advance(299);
    expect((await browser.visit()).session.isFresh()).toBe(true);
    h.clock.advance(2);
    const { session } = await browser.visit();
    expect(session.isFresh()).toBe(false);
    expect(() => session.requireFresh()).toThrow(ReauthenticationRequiredError);
    expect(session.isFresh({ maxAgeSeconds: 600 })).toBe(true);
    await browser.visit((s) => s.login('alice'));
    expect((await browser.visit()).session.isFresh()).toBe(true);
  });
});

describe('timeouts', () => {
  it('[SM-21] the idle timeout is enforced from the server record', async () => {
    const h = createHarness<AppData>({ idleTimeoutSeconds: 4, absoluteTimeoutSeconds: 100 });
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    for (let i = 0; i < 5; i++) {
      h.clock.advance(2);
      expect((await browser.visit()).session.userId).toBe('alice');
    }
    const token = browser.jar.get(SID)!;
    h.clock.advance(5);
    const { session, cookies } = await h.request(`${SID}=${token}`);
    expect(session.userId).toBeNull();
    expect(cookies.get(SID)).toMatch(/Max-Age=0/);
    expect(h.events.find((e) => e.type === 'session.expired')?.reason).toBe('idle');
  });

  it('[SM-22] the absolute timeout ends a session however active it is', async () => {
    const h = createHarness<AppData>({ idleTimeoutSeconds: 4, absoluteTimeoutSeconds: 12 });
    const browser = h.browser();
    const { session: first } = await browser.visit((s) => s.login('alice'));
    for (let t = 1; t < 12; t++) {
      h.clock.advance(1);
      expect((await browser.visit()).session.userId, `t=${t}`).toBe('alice');
    }
    h.clock.advance(1);
    expect((await browser.visit()).session.userId).toBeNull();
    expect(h.clock.now).toBe(first.absoluteExpiresAt!.getTime());
    expect(h.events.find((e) => e.type === 'session.expired')?.reason).toBe('absolute');
  });

  it('[SM-23] touches, writes and rotations never move the absolute deadline', async () => {
    const h = createHarness<AppData>({
      idleTimeoutSeconds: 10,
      absoluteTimeoutSeconds: 60,
      rotationIntervalSeconds: 5,
    });
    const browser = h.browser();
    const { session: first } = await browser.visit((s) => s.login('alice'));
    for (let i = 0; i < 8; i++) {
      h.clock.advance(6);
      const { session } = await browser.visit((s) => s.set('theme', `t${i}`));
      expect(session.absoluteExpiresAt).toEqual(first.absoluteExpiresAt);
      expect(session.createdAt).toEqual(first.createdAt);
      expect(session.idleExpiresAt!.getTime()).toBeLessThanOrEqual(
        first.absoluteExpiresAt!.getTime(),
      );
    }
  });

  it('touch throttling: reads inside the touch interval cost one store read and no write', async () => {
    const h = createHarness<AppData>({ idleTimeoutSeconds: 600, touchIntervalSeconds: 60 });
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    h.store.calls.length = 0;
    for (let i = 0; i < 5; i++) {
      h.clock.advance(10);
      await browser.visit();
    }
    expect(h.store.calls.map((c) => c.method)).toEqual(Array(5).fill('findByTokenHash'));
    h.clock.advance(20);
    const { session } = await browser.visit();
    expect(h.store.calls.at(-1)?.method).toBe('update');
    expect(session.idleExpiresAt!.getTime()).toBe(h.clock.now + 600_000);
  });

  it('[SM-24] purgeExpired removes expired records', async () => {
    const h = createHarness<AppData>({ idleTimeoutSeconds: 10 });
    const browser = h.browser();
    const { session } = await browser.visit((s) => s.login('alice'));
    h.clock.advance(11);
    expect(await h.manager.purgeExpired()).toBe(1);
    expect(await h.store.findById(session.id!)).toBeNull();
  });
});

describe('rotation and theft detection', () => {
  it('[SM-20] rotates after the interval; the old token works only during the grace window', async () => {
    const h = createHarness<AppData>({
      rotationIntervalSeconds: 6,
      rotationGraceSeconds: 2,
      idleTimeoutSeconds: 100,
    });
    const browser = h.browser();
    const { session: first } = await browser.visit((s) => s.login('alice'));
    const t1 = browser.jar.get(SID)!;
    h.clock.advance(6);
    const { session } = await browser.visit();
    const t2 = browser.jar.get(SID)!;
    expect(t2).not.toBe(t1);
    expect(session.id).toBe(first.id);
    expect(h.events.some((e) => e.type === 'session.rotated')).toBe(true);
    h.clock.advance(1);
    // The browser uses its new token: from now on the old one returning late is theft.
    expect((await browser.visit()).session.userId).toBe('alice');
    h.clock.advance(1);
    const inGrace = await h.request(`${SID}=${t1}`);
    expect(inGrace.session.userId).toBe('alice');
    expect(inGrace.cookies.size).toBe(0);
    h.clock.advance(1);
    expect((await h.request(`${SID}=${t1}`)).session.userId).toBeNull();
    expect(h.events.find((e) => e.type === 'session.theft_detected')).toMatchObject({
      sessionId: first.id,
      userId: 'alice',
    });
    expect((await h.request(`${SID}=${t2}`)).session.userId).toBeNull();
  });

  it('[SM-20] theftPolicy "log" reports the stale token but keeps the session', async () => {
    const h = createHarness<AppData>({
      rotationIntervalSeconds: 6,
      rotationGraceSeconds: 2,
      theftPolicy: 'log',
    });
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    const t1 = browser.jar.get(SID)!;
    h.clock.advance(6);
    await browser.visit();
    await browser.visit();
    h.clock.advance(3);
    expect((await h.request(`${SID}=${t1}`)).session.userId).toBeNull();
    expect(h.events.some((e) => e.type === 'session.theft_detected')).toBe(true);
    expect((await browser.visit()).session.userId).toBe('alice');
  });

  it('[SM-18] periodic rotation keeps createdAt and the absolute deadline', async () => {
    const h = createHarness<AppData>({ rotationIntervalSeconds: 6, idleTimeoutSeconds: 100 });
    const browser = h.browser();
    const { session: first } = await browser.visit((s) => s.login('alice'));
    h.clock.advance(7);
    const { session } = await browser.visit();
    expect(session.createdAt).toEqual(first.createdAt);
    expect(session.absoluteExpiresAt).toEqual(first.absoluteExpiresAt);
  });

  it('[SM-20][H-13] parallel requests at the rotation boundary all succeed and only one new token is issued', async () => {
    const h = createHarness<AppData>({
      rotationIntervalSeconds: 6,
      rotationGraceSeconds: 5,
      idleTimeoutSeconds: 100,
    });
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    const t1 = browser.jar.get(SID)!;
    h.clock.advance(7);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => h.request(`${SID}=${t1}`)),
    );
    expect(responses.every((r) => r.session.userId === 'alice')).toBe(true);
    const newTokens = new Set(responses.flatMap((r) => [...r.cookies.values()]));
    expect(newTokens.size).toBe(1);
  });
});

describe('termination', () => {
  it('[SM-25] logout deletes the record and expires the cookie with the same name and attributes', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    const { session: signedIn } = await browser.visit((s) => s.login('alice'));
    const token = browser.jar.get(SID)!;
    const { session, cookies } = await h.request(`${SID}=${token}`);
    await session.logout();
    expect(cookies.get(SID)).toBe(
      `${SID}=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`,
    );
    expect(await h.store.findById(signedIn.id!)).toBeNull();
    expect((await h.request(`${SID}=${token}`)).session.id).toBeNull();
    await expect(session.logout()).resolves.toBeUndefined();
  });

  it('[SM-27] logout everywhere ends every session of the user, the current one included', async () => {
    const h = createHarness<AppData>();
    const [a, b, c] = [h.browser(), h.browser(), h.browser()];
    for (const browser of [a, b, c]) await browser.visit((s) => s.login('alice'));
    const bob = h.browser();
    await bob.visit((s) => s.login('bob'));
    const { result: count } = await a.visit((s) => s.revokeAllSessions());
    expect(count).toBe(3);
    for (const browser of [a, b, c]) expect((await browser.visit()).session.userId).toBeNull();
    expect((await bob.visit()).session.userId).toBe('bob');
    expect(h.events.filter((e) => e.type === 'session.revoked')).toHaveLength(3);
  });

  it('[SM-28] revokeOtherSessions keeps only the current one; regenerate then rotates it', async () => {
    const h = createHarness<AppData>();
    const [a, b] = [h.browser(), h.browser()];
    await a.visit((s) => s.login('alice'));
    await b.visit((s) => s.login('alice'));
    const oldA = a.jar.get(SID)!;
    await a.visit(async (s) => {
      expect(await s.revokeOtherSessions()).toBe(1);
      await s.regenerate();
    });
    expect((await b.visit()).session.userId).toBeNull();
    expect((await h.request(`${SID}=${oldA}`)).session.userId).toBeNull();
    expect((await a.visit()).session.userId).toBe('alice');
  });

  it('[SM-29][SM-30] administrators revoke one user or one session', async () => {
    const h = createHarness<AppData>();
    const [a, b, bob] = [h.browser(), h.browser(), h.browser()];
    await a.visit((s) => s.login('alice'));
    const { session: bs } = await b.visit((s) => s.login('alice'));
    await bob.visit((s) => s.login('bob'));
    expect(await h.manager.revokeSession(bs.id!)).toBe(true);
    expect((await b.visit()).session.userId).toBeNull();
    expect(await h.manager.revokeUserSessions('alice')).toBe(1);
    expect((await a.visit()).session.userId).toBeNull();
    expect((await bob.visit()).session.userId).toBe('bob');
    expect(await h.manager.revokeSession('not an id')).toBe(false);
  });

  it('[SM-31] a write racing a logout does not resurrect the session', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    const { session: signedIn } = await browser.visit((s) => s.login('alice'));
    const cookie = browser.cookieHeader();
    const slow = await h.request(cookie);
    const logout = await h.request(cookie);
    await logout.session.logout();
    await expect(slow.session.set('theme', 'dark')).rejects.toBeInstanceOf(SessionEndedError);
    expect(await h.store.findById(signedIn.id!)).toBeNull();
    expect(slow.cookies.get(SID)).toMatch(/Max-Age=0/);
  });
});

describe('concurrency', () => {
  it('two requests changing different keys of one session both land', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    const cookie = browser.cookieHeader();
    const [one, two] = await Promise.all([h.request(cookie), h.request(cookie)]);
    await Promise.all([one.session.set('theme', 'dark'), two.session.set('cart', ['pear'])]);
    const { session } = await browser.visit();
    expect(session.data).toEqual({ theme: 'dark', cart: ['pear'] });
  });

  it('twenty parallel writers to twenty keys all land', async () => {
    const h = createHarness<Record<string, number>>();
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    const cookie = browser.cookieHeader();
    const requests = await Promise.all(Array.from({ length: 20 }, () => h.request(cookie)));
    await Promise.all(requests.map((r, i) => r.session.set(`k${i}`, i)));
    const { session } = await browser.visit();
    expect(Object.keys(session.data)).toHaveLength(20);
  });

  it('[H-13] parallel logins over one pre-login token never share a session', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    await browser.visit((s) => s.set('cart', ['x']));
    const cookie = browser.cookieHeader();
    const requests = await Promise.all(Array.from({ length: 20 }, () => h.request(cookie)));
    await Promise.all(requests.map((r, i) => r.session.login(`user${i}`)));
    const ids = new Set(requests.map((r) => r.session.id));
    expect(ids.size).toBe(20);
    requests.forEach((r, i) => expect(r.session.userId).toBe(`user${i}`));
  });
});

describe('the user view of sessions', () => {
  it('[SM-33] stores a bounded user agent', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser({ userAgent: 'U'.repeat(10_000) });
    const { result } = await browser.visit(async (s) => {
      await s.login('alice');
      return s.listSessions();
    });
    expect(result[0]!.userAgent).toHaveLength(512);
  });

  it('[SM-33] lists the user sessions with metadata and public ids only; revokes own but not others', async () => {
    const h = createHarness<AppData>();
    const browsers = [
      h.browser({ userAgent: 'Phone' }),
      h.browser({ userAgent: 'Laptop' }),
      h.browser(),
    ];
    for (const b of browsers) await b.visit((s) => s.login('alice'));
    const bob = h.browser();
    const { session: bobSession } = await bob.visit((s) => s.login('bob'));
    h.clock.advance(120);
    const { session, result: list } = await browsers[0]!.visit((s) => s.listSessions());
    expect(list).toHaveLength(3);
    expect(list.filter((i) => i.current)).toEqual([
      expect.objectContaining({ id: session.id, userAgent: 'Phone' }),
    ]);
    expect(list.map((i) => i.userAgent).sort()).toEqual(['Laptop', 'Phone', 'TestAgent/1.0']);
    expect(list.every((i) => i.ip === '203.0.113.7')).toBe(true);
    const serialized = JSON.stringify(list);
    for (const token of h.issuedTokens) expect(serialized).not.toContain(token);
    const laptop = list.find((i) => i.userAgent === 'Laptop')!;
    expect((await browsers[0]!.visit((s) => s.revokeSession(bobSession.id!))).result).toBe(false);
    expect((await bob.visit()).session.userId).toBe('bob');
    expect((await browsers[0]!.visit((s) => s.revokeSession(laptop.id))).result).toBe(true);
    expect((await browsers[1]!.visit()).session.userId).toBeNull();
  });
});

describe('transport', () => {
  it('[SM-06] over plain HTTP (no development opt-in) the visitor is anonymous and no cookie is issued', async () => {
    const h = createHarness<AppData>();
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    const token = browser.jar.get(SID)!;
    const { session, cookies } = await h.request(`${SID}=${token}; sid=${token}`, {
      secure: false,
    });
    expect(session.userId).toBeNull();
    await expect(session.login('alice')).rejects.toBeInstanceOf(InsecureTransportError);
    await expect(session.set('theme', 'x')).rejects.toBeInstanceOf(InsecureTransportError);
    expect(() => session.csrfToken()).toThrow(InsecureTransportError);
    await session.logout();
    expect(cookies.size).toBe(0);
  });

  it('[SM-06] http development mode issues a non-Secure cookie without the __Host- prefix', async () => {
    const h = createHarness<AppData>({ cookie: { secure: 'allow-http-development' } });
    const { session, cookies } = await h.request(undefined, { secure: false });
    await session.login('alice');
    expect(cookies.get('sid')).toMatch(/^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('[SM-10] a persistent cookie never outlives the absolute deadline', async () => {
    const h = createHarness<AppData>({ absoluteTimeoutSeconds: 3600 });
    const { session, cookies } = await h.request(undefined);
    await session.login('alice', { cookie: 'persistent' });
    expect(cookies.get(SID)).toMatch(/; Max-Age=3600$/);
    const { session: plain, cookies: plainCookies } = await h.request(undefined);
    await plain.login('bob');
    expect(plainCookies.get(SID)).not.toMatch(/Max-Age|Expires/);
  });
});

describe('store keys', () => {
  it('[SM-50] the store only ever sees a keyed hash (HMAC-SHA-256) of the token', async () => {
    const h = createHarness<AppData>({ rotationIntervalSeconds: 5 });
    const browser = h.browser();
    await browser.visit((s) => s.login('alice'));
    h.clock.advance(6);
    await browser.visit();
    const everything = JSON.stringify(h.store.calls);
    expect(h.issuedTokens.length).toBeGreaterThan(1);
    for (const token of h.issuedTokens) {
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(Buffer.from(token, 'base64url').toString('hex'));
    }
    const ring = resolveKeyRing([TEST_KEY], systemRuntime, [])!;
    const current = browser.jar.get(SID)!;
    expect(everything).toContain(ring.tokenHash(current));
    expect(everything).not.toContain(createHash('sha256').update(current).digest('base64url'));
    // A stored key presented as a cookie is just another unknown token.
    const stored = await h.store.findByTokenHash(ring.tokenHash(current));
    expect((await h.request(`${SID}=${stored!.session.tokenHash}`)).session.id).toBeNull();
  });
});
