import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  BOB,
  Browser,
  cookieSet,
  extractCSRF,
  isDeletion,
  isOk,
  meWith,
  send,
  signedIn,
  signup,
  startDemo,
  type DemoServer,
  type StartOptions,
} from './demo-helpers.js';

interface Me {
  email: string;
  sessionId: string;
  createdAt: string;
  authenticatedAt: string;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
}

async function me(browser: Browser): Promise<Me> {
  const result = await browser.me();
  expect(result.status).toBe(200);
  return result.json<Me>();
}

/** A server per test where the timing knobs matter. */
function withServer(options: StartOptions): () => DemoServer {
  let server: DemoServer | undefined;
  beforeAll(async () => {
    server = await startDemo(options);
    await signup(server, BOB);
  });
  afterAll(() => server?.close());
  return () => server!;
}

describe('demo app: fixation and privilege changes', () => {
  const server = withServer({});

  it('[SM-16] [H-07] login issues a new token and session id; the pre-login cookie is not a session', async () => {
    const browser = new Browser(server());
    await browser.request('/login');
    const t0 = browser.jar.get('sid-csrf')!;
    expect(t0).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const login = await browser.login();
    const t1 = cookieSet(login, 'sid')!;
    expect(t1).not.toBe(t0);
    expect(cookieSet(login, 'sid-csrf')).toBe(''); // the pre-session cookie is retired
    expect(await isOk(server(), t0)).toBe(false);
    expect(await isOk(server(), t1)).toBe(true);
    const s1 = (await me(browser)).sessionId;

    // Re-authentication (step-up) over a live session: a new token and a new session id again.
    const again = await browser.login();
    const t2 = cookieSet(again, 'sid')!;
    expect(t2).not.toBe(t1);
    expect(await isOk(server(), t1)).toBe(false);
    expect(await isOk(server(), t2)).toBe(true);
    const s2 = (await me(browser)).sessionId;
    expect(s2).not.toBe(s1);
    const authenticated = server().events.filter((event) => event.type === 'session.authenticated');
    expect(authenticated.at(-1)?.previousSessionId).toBe(s1);
  });

  it('[SM-17] another user signing in over a session gets a new token; the first user is gone', async () => {
    const browser = await signedIn(server(), ALICE);
    const aliceToken = browser.token!;
    const aliceSession = (await me(browser)).sessionId;
    const login = await browser.login(BOB);
    expect(login.status).toBe(303);
    const bobToken = cookieSet(login, 'sid')!;
    expect(bobToken).not.toBe(aliceToken);
    expect(await isOk(server(), aliceToken)).toBe(false);
    const bob = await me(browser);
    expect(bob.email).toBe(BOB.email);
    expect(bob.sessionId).not.toBe(aliceSession);
    const list = (await browser.request('/api/sessions')).json<{ id: string }[]>();
    expect(list.map((entry) => entry.id)).not.toContain(aliceSession);
  });

  it('[SM-17] [SM-28] [H-12] a password change rotates this token and ends every other session', async () => {
    const account = { email: 'pat@example.com', password: 'pat-password-one' };
    await signup(server(), account);
    const a = await signedIn(server(), account, 'A');
    const b = await signedIn(server(), account, 'B');
    const aOld = a.token!;
    const aSession = (await me(a)).sessionId;
    const result = await a.post('/account/password', {
      current: account.password,
      next: 'pat-password-two',
    });
    expect(result.status).toBe(303);
    const aNew = cookieSet(result, 'sid')!;
    expect(aNew).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(aNew).not.toBe(aOld);
    expect(await isOk(server(), aOld)).toBe(false);
    expect(await isOk(server(), b.token!)).toBe(false);
    expect(await isOk(server(), aNew)).toBe(true);
    const after = await me(a);
    expect(after.sessionId).not.toBe(aSession);
    const list = (await a.request('/api/sessions')).json<unknown[]>();
    expect(list).toHaveLength(1);
  });

  it('[SM-19] the pre-login _csrf stops working at login; a fresh one works', async () => {
    const browser = new Browser(server());
    const c0 = await browser.csrf('/login');
    await browser.login();
    const token = browser.token!;
    const stale = await browser.request('/logout', { form: { _csrf: c0 } });
    expect(stale.status).toBe(403);
    expect(await isOk(server(), token)).toBe(true);
    const fresh = await browser.request('/logout', {
      form: { _csrf: await browser.csrf('/account') },
    });
    expect(fresh.status).toBe(303);
    expect(await isOk(server(), token)).toBe(false);
  });

  it('[SM-33] [H-27] lists three sessions, one current, no token; revokes one; never another user’s', async () => {
    const account = { email: 'quinn@example.com', password: 'quinn-password' };
    await signup(server(), account);
    const a = await signedIn(server(), account, 'Device-A');
    const b = await signedIn(server(), account, 'Device-B');
    const c = await signedIn(server(), account, 'Device-C');
    const listing = await a.request('/api/sessions');
    const html = await a.request('/account/sessions');
    const list = listing.json<{ id: string; current: boolean; userAgent: string }[]>();
    expect(list).toHaveLength(3);
    expect(list.filter((entry) => entry.current)).toEqual([
      expect.objectContaining({ userAgent: 'Device-A' }),
    ]);
    for (const token of [a.token!, b.token!, c.token!]) {
      expect(listing.body).not.toContain(token);
      expect(html.body).not.toContain(token);
      expect(listing.body).not.toContain(token.slice(0, 16));
    }
    const bId = list.find((entry) => entry.userAgent === 'Device-B')!.id;
    expect((await a.post(`/account/sessions/${bId}/revoke`)).status).toBe(303);
    expect(await isOk(server(), b.token!)).toBe(false);
    expect((await a.request('/api/sessions')).json<unknown[]>()).toHaveLength(2);

    const bob = await signedIn(server(), BOB);
    const bobId = (await me(bob)).sessionId;
    const attempt = await a.post(`/account/sessions/${bobId}/revoke`);
    expect(attempt.status).toBe(404);
    expect(await isOk(server(), bob.token!)).toBe(true);
    expect(
      server().events.filter(
        (event) => event.type === 'session.revoked' && event.sessionId === bobId,
      ),
    ).toEqual([]);
  });
});

describe('demo app: logout', () => {
  const server = withServer({ idleTimeoutSeconds: 60 });

  it('[SM-25] [H-08] logout deletes the session; the saved token is dead when replayed', async () => {
    const alice = await signedIn(server());
    const saved = alice.token!;
    const sessionId = (await me(alice)).sessionId;
    const result = await alice.post('/logout');
    expect(result.status).toBe(303);
    const deletion = result.setCookies.find((header) => header.startsWith('sid='));
    expect(deletion).toMatch(/^sid=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
    expect(isDeletion(deletion!)).toBe(true);
    expect(await isOk(server(), saved)).toBe(false);
    // The unsafe probe with the replayed token is refused (H-08: 401/403) and recreates nothing.
    const probe = await send(server(), '/logout', {
      headers: { Cookie: `sid=${saved}` },
      form: { _csrf: 'x' },
    });
    expect(probe.status).toBe(403);
    expect(await server().store.findById(sessionId)).toBeNull();
    expect(await isOk(server(), saved)).toBe(false);
  });

  it('[SM-26] GET /logout is 404 and the session still works', async () => {
    const alice = await signedIn(server());
    for (const path of ['/logout', '/logout?_method=POST', '/logout-everywhere']) {
      expect((await alice.request(path)).status).toBe(404);
    }
    const override = await alice.request('/logout', {
      method: 'POST',
      headers: { 'X-HTTP-Method-Override': 'GET' },
    });
    expect(override.status).toBe(403);
    expect(await isOk(server(), alice.token!)).toBe(true);
  });

  it('[SM-26] a cross-site POST /logout is 403 and the session still works', async () => {
    const alice = await signedIn(server());
    const csrf = await alice.csrf();
    const result = await alice.request('/logout', {
      form: { _csrf: csrf },
      headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.test' },
    });
    expect(result.status).toBe(403);
    expect(await isOk(server(), alice.token!)).toBe(true);
  });

  it('[SM-26] logout with an expired token is a 303, not a 5xx', async () => {
    const alice = await signedIn(server());
    const csrf = await alice.csrf();
    server().clock.advance(61);
    const result = await alice.request('/logout', { form: { _csrf: csrf } });
    expect(result.status).toBe(303);
    expect(alice.token).toBeUndefined();
    // The record and its CSRF secret are gone now: a replay is refused, never a 5xx (H-08).
    const again = await alice.request('/logout', { form: { _csrf: csrf } });
    expect(again.status).toBe(403);
  });

  it('[SM-27] logout everywhere ends every session of the user, on every instance', async () => {
    const sibling = await server().sibling();
    const a = await signedIn(server(), ALICE, 'A');
    const b = await signedIn(server(), ALICE, 'B');
    const c = await signedIn(sibling, ALICE, 'C');
    const bob = await signedIn(server(), BOB);
    expect(await isOk(sibling, a.token!)).toBe(true);
    const result = await a.post('/logout-everywhere');
    expect(result.status).toBe(303);
    expect(result.location).toBe('/');
    expect(cookieSet(result, 'sid')).toBe('');
    expect(await isOk(server(), a.token!)).toBe(false);
    expect(await isOk(server(), b.token!)).toBe(false);
    expect(await isOk(sibling, c.token!)).toBe(false);
    expect(await isOk(server(), c.token!)).toBe(false);
    expect(await isOk(server(), bob.token!)).toBe(true);
  });
});

describe('demo app: timeouts on a fake clock', () => {
  const server = withServer({
    idleTimeoutSeconds: 60,
    absoluteTimeoutSeconds: 300,
    rotationIntervalSeconds: 100,
    rotationGraceSeconds: 10,
  });

  it('[SM-21] [H-09] the idle timeout is enforced by the server', async () => {
    const alice = await signedIn(server());
    const token = alice.token!;
    server().clock.advance(40);
    expect(await isOk(server(), token)).toBe(true);
    server().clock.advance(40); // 80 s after login: alive thanks to the activity at 40 s
    expect(await isOk(server(), token)).toBe(true);
    server().clock.advance(61);
    const result = await meWith(server(), token);
    expect(result.status).toBe(401);
    expect(cookieSet(result, 'sid')).toBe('');
    expect(await isOk(server(), token)).toBe(false); // re-sending the same cookie changes nothing
    expect(
      server().events.some((event) => event.type === 'session.expired' && event.reason === 'idle'),
    ).toBe(true);
  });

  it('[SM-22] [H-09] the absolute timeout ends even a busy session', async () => {
    const alice = await signedIn(server());
    const start = server().clock.now;
    const { absoluteExpiresAt } = await me(alice);
    expect(Date.parse(absoluteExpiresAt)).toBe(start + 300_000);
    for (let t = 50; t < 300; t += 50) {
      server().clock.advance(50);
      expect((await alice.me()).status, `${t} s`).toBe(200);
    }
    server().clock.advance(49); // 299 s
    expect((await alice.me()).status).toBe(200);
    server().clock.advance(1); // exactly the absolute deadline
    expect((await alice.me()).status).toBe(401);
    expect(
      server().events.some(
        (event) => event.type === 'session.expired' && event.reason === 'absolute',
      ),
    ).toBe(true);
  });

  it('[SM-23] [SM-18] rotation and touches never move the absolute deadline or the creation time', async () => {
    const alice = await signedIn(server());
    const before = await me(alice);
    const tokens = new Set([alice.token]);
    for (let i = 0; i < 5; i++) {
      server().clock.advance(45);
      const now = await me(alice);
      tokens.add(alice.token);
      expect(now.absoluteExpiresAt).toBe(before.absoluteExpiresAt);
      expect(now.createdAt).toBe(before.createdAt);
      expect(now.authenticatedAt).toBe(before.authenticatedAt);
      expect(now.sessionId).toBe(before.sessionId);
      expect(Date.parse(now.idleExpiresAt)).toBeLessThanOrEqual(Date.parse(now.absoluteExpiresAt));
    }
    expect(tokens.size).toBeGreaterThan(1); // it did rotate
  });

  it('[SM-20] [H-11] the old token works during the grace window; after it, both tokens die', async () => {
    const alice = await signedIn(server());
    const t1 = alice.token!;
    server().clock.advance(50);
    expect((await alice.me()).setCookies).toEqual([]); // a touch, no rotation yet
    server().clock.advance(51);
    const rotated = await alice.me();
    expect(rotated.status).toBe(200);
    const t2 = cookieSet(rotated, 'sid')!;
    expect(t2).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t2).not.toBe(t1);
    server().clock.advance(5);
    const inGrace = await meWith(server(), t1);
    expect(inGrace.status).toBe(200);
    expect(inGrace.setCookies).toEqual([]); // no second successor
    expect(await isOk(server(), t2)).toBe(true);
    server().clock.advance(6); // 11 s after the rotation
    expect(await isOk(server(), t1)).toBe(false);
    expect(await isOk(server(), t2)).toBe(false);
    expect(server().events.some((event) => event.type === 'session.theft_detected')).toBe(true);
  });
  it('[SM-40] a refused cross-origin request neither rotates nor touches the session', async () => {
    const alice = await signedIn(server());
    const csrf = await alice.csrf();
    server().clock.advance(50);
    expect((await alice.me()).status).toBe(200);
    server().clock.advance(51); // rotation due
    const sessionId = (
      await server().store.listByUser(
        server().demo.users.findByEmail(ALICE.email)!.id,
        server().clock.now,
      )
    ).map((s) => s.id);
    const before = await Promise.all(sessionId.map((id) => server().store.findById(id)));
    const refused = await alice.request('/logout', {
      form: { _csrf: csrf },
      headers: { 'Sec-Fetch-Site': 'same-site', Origin: 'http://sibling.localhost' },
    });
    expect(refused.status).toBe(403);
    expect(refused.setCookies).toEqual([]);
    const after = await Promise.all(sessionId.map((id) => server().store.findById(id)));
    expect(after).toEqual(before);
    const next = await alice.me();
    expect(cookieSet(next, 'sid')).toMatch(/^[A-Za-z0-9_-]{43}$/); // the rotation was still due
  });
});

describe('demo app: fresh login for sensitive changes', () => {
  const server = withServer({ freshAgeSeconds: 120, idleTimeoutSeconds: 600 });

  it('[SM-32] a password change needs a login fresher than FRESH_AGE', async () => {
    const account = { email: 'ray@example.com', password: 'ray-password-one' };
    await signup(server(), account);
    const ray = await signedIn(server(), account);
    server().clock.advance(100);
    expect((await ray.me()).status).toBe(200);
    server().clock.advance(30); // 130 s after login, session alive
    const stale = await ray.post('/account/password', {
      current: account.password,
      next: 'ray-password-two',
    });
    expect(stale.status).toBe(401);
    expect(stale.headers.get('content-type')).toMatch(/^text\/html/);
    expect(stale.body).toContain('Sign in again');
    expect((await new Browser(server()).login(account)).status).toBe(303); // unchanged

    expect((await ray.login(account)).status).toBe(303);
    const fresh = await ray.post('/account/password', {
      current: account.password,
      next: 'ray-password-two',
    });
    expect(fresh.status).toBe(303);
    expect(
      (await new Browser(server()).login({ ...account, password: 'ray-password-two' })).status,
    ).toBe(303);
  });
});

describe('demo app: concurrency', () => {
  const server = withServer({ rotationIntervalSeconds: 60, rotationGraceSeconds: 10 });

  it('[H-13] [SM-18] 50 parallel requests across a rotation boundary: all 200, one successor at most', async () => {
    const alice = await signedIn(server());
    const t1 = alice.token!;
    server().clock.advance(61);
    const results = await Promise.all(Array.from({ length: 50 }, () => meWith(server(), t1)));
    expect(results.map((result) => result.status)).toEqual(Array(50).fill(200));
    const successors = new Set(
      results.map((result) => cookieSet(result, 'sid')).filter((v) => v !== undefined),
    );
    expect(successors.size).toBe(1);
    const t2 = [...successors][0]!;
    expect(t2).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await isOk(server(), t2)).toBe(true);
    expect(await isOk(server(), t1)).toBe(true); // still in grace
    const rotations = server().events.filter((event) => event.type === 'session.rotated');
    expect(rotations).toHaveLength(1);
  });

  it('[H-13] 20 parallel logins with one pre-session never hand out another user’s session', async () => {
    const browser = new Browser(server());
    const page = await browser.request('/login');
    const csrf = extractCSRF(page.body);
    const cookie = browser.cookieHeader()!;
    const accounts = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? ALICE : BOB));
    const results = await Promise.all(
      accounts.map((account) =>
        send(server(), '/login', {
          headers: { Cookie: cookie },
          form: { _csrf: csrf, email: account.email, password: account.password },
        }),
      ),
    );
    const tokens = results.map((result) => {
      expect(result.status).toBe(303);
      return cookieSet(result, 'sid')!;
    });
    expect(new Set(tokens).size).toBe(20);
    for (const [i, token] of tokens.entries()) {
      const result = await meWith(server(), token);
      expect(result.status).toBe(200);
      expect(result.json<{ email: string }>().email).toBe(accounts[i]!.email);
    }
    // Twenty scrypt hashes at N=2^17 (128 MiB each) on two cores take their time.
  }, 90_000);
});
