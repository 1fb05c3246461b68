import { createMemoryStore } from 'strongroom/stores/memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  BOB,
  Browser,
  cookieSet,
  extractCSRF,
  isOk,
  send,
  signedIn,
  signup,
  TOKEN_SHAPE,
  type DemoServer,
  startDemo,
} from './demo-helpers.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('demo app: every route of DEMO-CONTRACT.md', () => {
  let server: DemoServer;

  beforeAll(async () => {
    server = await startDemo();
    await signup(server, BOB);
  });
  afterAll(() => server.close());

  describe('GET /', () => {
    it('says "not signed in" to a visitor and sets no cookie', async () => {
      const result = await send(server, '/');
      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toMatch(/^text\/html/);
      expect(result.body).toContain('You are not signed in');
      expect(result.setCookies).toEqual([]);
      expect(result.headers.get('x-powered-by')).toBeNull();
    });

    it('names the signed-in user', async () => {
      const alice = await signedIn(server);
      const result = await alice.request('/');
      expect(result.status).toBe(200);
      expect(result.body).toContain('You are signed in as <strong>alice@example.com</strong>');
    });
  });

  describe('GET /login and POST /login', () => {
    it('serves a form with email, password and a hidden _csrf, plus a pre-session cookie', async () => {
      const result = await send(server, '/login');
      expect(result.status).toBe(200);
      expect(result.body).toMatch(/<input type="email" name="email"/);
      expect(result.body).toMatch(/<input type="password" name="password"/);
      expect(extractCSRF(result.body)).toMatch(/^[A-Za-z0-9_-]{86}$/);
      expect(cookieSet(result, 'sid-csrf')).toMatch(TOKEN_SHAPE);
      expect(cookieSet(result, 'sid')).toBeUndefined();
    });

    it('signs in: 303 to /account with a new session cookie', async () => {
      const browser = new Browser(server);
      const result = await browser.login(ALICE);
      expect(result.status).toBe(303);
      expect(result.location).toBe('/account');
      expect(cookieSet(result, 'sid')).toMatch(TOKEN_SHAPE);
      const account = await browser.request('/account');
      expect(account.status).toBe(200);
      expect(account.body).toContain('alice@example.com');
      expect(extractCSRF(account.body)).toMatch(/^[A-Za-z0-9_-]{86}$/);
    });

    it('answers wrong credentials with 401, the form again, and no session', async () => {
      for (const form of [
        { email: ALICE.email, password: 'wrong password' },
        { email: 'nobody@example.com', password: ALICE.password },
        { email: 'not an email', password: 'x' },
      ]) {
        const browser = new Browser(server);
        const csrf = await browser.csrf('/login');
        const result = await browser.request('/login', { form: { ...form, _csrf: csrf } });
        expect(result.status).toBe(401);
        expect(result.body).toContain('Wrong email or password');
        expect(result.body).toMatch(/<form method="post" action="\/login">/);
        expect(extractCSRF(result.body)).toBeTruthy();
        expect(cookieSet(result, 'sid')).toBeUndefined();
        expect(browser.token).toBeUndefined();
      }
      expect(server.demoEvents.some((event) => event.type === 'login.failed')).toBe(true);
    });

    it('treats missing or non-string fields as wrong credentials, not a crash', async () => {
      const browser = new Browser(server);
      const csrf = await browser.csrf('/login');
      const result = await browser.request('/login', {
        form: { _csrf: csrf, email: [ALICE.email, BOB.email], password: ALICE.password },
      });
      expect(result.status).toBe(401);
      const empty = await browser.request('/login', { form: { _csrf: csrf } });
      expect(empty.status).toBe(401);
    });
  });

  describe('GET /account', () => {
    it('redirects a visitor to /login', async () => {
      const result = await send(server, '/account');
      expect(result.status).toBe(303);
      expect(result.location).toBe('/login');
    });
  });

  describe('GET /api/me', () => {
    it('describes the signed-in session with ISO-8601 times', async () => {
      const alice = await signedIn(server);
      const result = await alice.me();
      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toMatch(/^application\/json/);
      const me = result.json<Record<string, string>>();
      expect(Object.keys(me).sort()).toEqual(
        [
          'absoluteExpiresAt',
          'authenticatedAt',
          'createdAt',
          'email',
          'idleExpiresAt',
          'sessionId',
        ].sort(),
      );
      expect(me.email).toBe(ALICE.email);
      expect(me.sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      for (const key of ['createdAt', 'authenticatedAt', 'idleExpiresAt', 'absoluteExpiresAt']) {
        expect(me[key]).toMatch(ISO);
      }
      expect(Date.parse(me.absoluteExpiresAt!) - Date.parse(me.createdAt!)).toBe(43200 * 1000);
      expect(Date.parse(me.idleExpiresAt!) - Date.parse(me.createdAt!)).toBe(1800 * 1000);
    });

    it('answers a visitor 401 with a JSON { error }', async () => {
      const result = await send(server, '/api/me');
      expect(result.status).toBe(401);
      expect(Object.keys(result.json<object>())).toEqual(['error']);
    });
  });

  describe('GET /account/sessions and GET /api/sessions', () => {
    it('lists the sessions with created, last seen, user agent, IP and "this device"', async () => {
      await signup(server, { email: 'carol@example.com', password: 'carol-password' });
      const phone = await signedIn(
        server,
        { email: 'carol@example.com', password: 'carol-password' },
        'Phone/1.0',
      );
      await signedIn(
        server,
        { email: 'carol@example.com', password: 'carol-password' },
        'Laptop/2.0',
      );
      const result = await phone.request('/account/sessions');
      expect(result.status).toBe(200);
      expect(result.body).toContain('2 active sessions');
      expect(result.body).toContain('Phone/1.0');
      expect(result.body).toContain('Laptop/2.0');
      expect(result.body).toContain('127.0.0.1');
      expect(result.body.match(/this device/g)).toHaveLength(1);
      expect(
        result.body.match(/action="\/account\/sessions\/[A-Za-z0-9_-]{22}\/revoke"/g),
      ).toHaveLength(2);
      expect(extractCSRF(result.body)).toBeTruthy();

      const api = await phone.request('/api/sessions');
      expect(api.status).toBe(200);
      const list = api.json<Record<string, unknown>[]>();
      expect(list).toHaveLength(2);
      for (const entry of list) {
        expect(Object.keys(entry).sort()).toEqual([
          'createdAt',
          'current',
          'id',
          'ip',
          'lastSeenAt',
          'userAgent',
        ]);
        expect(entry.createdAt).toMatch(ISO);
        expect(entry.lastSeenAt).toMatch(ISO);
        expect(entry.ip).toBe('127.0.0.1');
      }
      expect(
        list.filter((entry) => entry.current === true).map((entry) => entry.userAgent),
      ).toEqual(['Phone/1.0']);
    });

    it('escapes the user agent in the HTML list', async () => {
      const browser = await signedIn(server, ALICE, '<script>alert("ua")</script>');
      const result = await browser.request('/account/sessions');
      expect(result.body).not.toContain('<script>alert');
      expect(result.body).toContain('&lt;script&gt;alert(&quot;ua&quot;)&lt;/script&gt;');
    });

    it('answers a visitor 303 /login and 401 JSON', async () => {
      expect((await send(server, '/account/sessions')).location).toBe('/login');
      const api = await send(server, '/api/sessions');
      expect(api.status).toBe(401);
      expect(api.json()).toHaveProperty('error');
    });
  });

  describe('POST /account/sessions/:id/revoke', () => {
    it('revokes another session of the same user and redirects back', async () => {
      const a = await signedIn(server, BOB, 'A');
      const b = await signedIn(server, BOB, 'B');
      const bId = (await b.me()).json<{ sessionId: string }>().sessionId;
      const result = await a.post(`/account/sessions/${bId}/revoke`);
      expect(result.status).toBe(303);
      expect(result.location).toBe('/account/sessions');
      expect(await isOk(server, b.token!)).toBe(false);
      expect(await isOk(server, a.token!)).toBe(true);
    });

    it('revoking the current session signs this browser out', async () => {
      const a = await signedIn(server, BOB);
      const id = (await a.me()).json<{ sessionId: string }>().sessionId;
      const token = a.token!;
      const result = await a.post(`/account/sessions/${id}/revoke`);
      expect(result.status).toBe(303);
      expect(cookieSet(result, 'sid')).toBe('');
      expect(await isOk(server, token)).toBe(false);
    });

    it('answers 404 for unknown and malformed ids, and 303 /login for visitors', async () => {
      const a = await signedIn(server, BOB);
      for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'nope', '..%2F..%2Fetc', '%E0%A4%A']) {
        const result = await a.post(`/account/sessions/${id}/revoke`);
        expect(result.status, id).toBeGreaterThanOrEqual(400);
        expect(result.status, id).toBeLessThan(500);
      }
      expect((await a.post('/account/sessions/AAAAAAAAAAAAAAAAAAAAAA/revoke')).status).toBe(404);
      expect(await isOk(server, a.token!)).toBe(true);
      // Without a token even a visitor is refused by the CSRF check; with the login form's
      // pre-session token the route sends it to /login.
      const path = '/account/sessions/AAAAAAAAAAAAAAAAAAAAAA/revoke';
      expect((await send(server, path, { method: 'POST' })).status).toBe(403);
      const visitor = await new Browser(server).post(path, {}, '/login');
      expect(visitor.status).toBe(303);
      expect(visitor.location).toBe('/login');
    });
  });

  describe('POST /logout and POST /logout-everywhere', () => {
    it('logout: 303 to / and the cookie expires', async () => {
      const alice = await signedIn(server);
      const token = alice.token!;
      const result = await alice.post('/logout');
      expect(result.status).toBe(303);
      expect(result.location).toBe('/');
      expect(cookieSet(result, 'sid')).toBe('');
      expect(await isOk(server, token)).toBe(false);
    });

    it('logout-everywhere: 303 to /', async () => {
      const alice = await signedIn(server);
      const result = await alice.post('/logout-everywhere');
      expect(result.status).toBe(303);
      expect(result.location).toBe('/');
    });

    it('accepts the token in X-CSRF-Token from a JSON caller', async () => {
      const alice = await signedIn(server);
      const csrf = await alice.csrf();
      const result = await alice.request('/logout', {
        method: 'POST',
        headers: { 'X-CSRF-Token': csrf, Accept: 'application/json' },
      });
      expect(result.status).toBe(303);
      expect(alice.token).toBeUndefined();
    });

    it('accepts _csrf in a JSON body', async () => {
      const alice = await signedIn(server);
      const csrf = await alice.csrf();
      const result = await alice.request('/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ _csrf: csrf }),
      });
      expect(result.status).toBe(303);
    });

    it('answers a JSON visitor 401 and a browser visitor 303 /login', async () => {
      const visitor = new Browser(server);
      const csrf = await visitor.csrf('/login');
      const json = await visitor.request('/logout', {
        form: { _csrf: csrf },
        headers: { Accept: 'application/json' },
      });
      expect(json.status).toBe(401);
      const html = await visitor.request('/logout-everywhere', { form: { _csrf: csrf } });
      expect(html.status).toBe(303);
      expect(html.location).toBe('/login');
    });
  });

  describe('POST /account/password', () => {
    it('changes the password: 303 to /account, new password works, old one does not', async () => {
      const account = { email: 'dave@example.com', password: 'dave-first-password' };
      await signup(server, account);
      const dave = await signedIn(server, account);
      const result = await dave.post('/account/password', {
        current: account.password,
        next: 'dave-second-password',
      });
      expect(result.status).toBe(303);
      expect(result.location).toBe('/account');
      expect((await new Browser(server).login(account)).status).toBe(401);
      expect(
        (await new Browser(server).login({ ...account, password: 'dave-second-password' })).status,
      ).toBe(303);
    });

    it('refuses a wrong current password or a short new one, changing nothing', async () => {
      const account = { email: 'erin@example.com', password: 'erin-first-password' };
      await signup(server, account);
      const erin = await signedIn(server, account);
      const other = await signedIn(server, account);
      const wrong = await erin.post('/account/password', {
        current: 'not it at all',
        next: 'erin-second-password',
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toContain('current password is wrong');
      const short = await erin.post('/account/password', {
        current: account.password,
        next: 'short',
      });
      expect(short.status).toBe(400);
      const missing = await erin.post('/account/password', {});
      expect(missing.status).toBe(400);
      expect(await isOk(server, other.token!)).toBe(true);
      expect((await new Browser(server).login(account)).status).toBe(303);
    });
  });

  describe('GET /signup and POST /signup', () => {
    it('creates an account and signs it in', async () => {
      const browser = new Browser(server);
      const csrf = await browser.csrf('/signup');
      const result = await browser.request('/signup', {
        form: { _csrf: csrf, email: '  Frank@Example.com ', password: 'frank-password' },
      });
      expect(result.status).toBe(303);
      expect(result.location).toBe('/account');
      expect((await browser.me()).json<{ email: string }>().email).toBe('frank@example.com');
      expect(server.demoEvents.some((event) => event.type === 'account.created')).toBe(true);
    });

    it('refuses a taken email (409), a bad email or a short password (400)', async () => {
      const cases: [Record<string, string>, number][] = [
        [{ email: ALICE.email, password: 'whatever-long' }, 409],
        [{ email: 'not-an-email', password: 'whatever-long' }, 400],
        [{ email: 'gina@example.com', password: 'short' }, 400],
        [{ email: 'gina@example.com' }, 400],
      ];
      for (const [form, status] of cases) {
        const browser = new Browser(server);
        const csrf = await browser.csrf('/signup');
        const result = await browser.request('/signup', { form: { ...form, _csrf: csrf } });
        expect(result.status, JSON.stringify(form)).toBe(status);
        expect(browser.token).toBeUndefined();
      }
      expect(
        (await new Browser(server).login({ email: ALICE.email, password: ALICE.password })).status,
      ).toBe(303);
    });
  });

  describe('unknown routes and malformed input', () => {
    it('answers 404 for unknown routes and GET /logout', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/logout'],
        ['GET', '/logout-everywhere'],
        ['GET', '/account/sessions/AAAAAAAAAAAAAAAAAAAAAA/revoke'],
      ] as const) {
        const result = await send(server, path, { method });
        expect(result.status, `${method} ${path}`).toBe(404);
      }
      // Unsafe methods meet the CSRF check before routing: 403 without a token, 404 with one.
      const visitor = new Browser(server);
      const csrf = await visitor.csrf('/login');
      for (const [method, path] of [
        ['POST', '/nope'],
        ['DELETE', '/account'],
      ] as const) {
        expect((await send(server, path, { method })).status, `${method} ${path}`).toBe(403);
        const withToken = await visitor.request(path, {
          method,
          headers: { 'X-CSRF-Token': csrf },
        });
        expect(withToken.status, `${method} ${path}`).toBe(404);
      }
      const api = await send(server, '/api/nope');
      expect(api.status).toBe(404);
      expect(api.json()).toEqual({ error: 'Not found' });
    });

    it('never echoes the unknown path', async () => {
      const result = await send(server, '/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
      expect(result.status).toBe(404);
      expect(result.body).not.toMatch(/alert|%3Cscript/i);
    });

    it('answers malformed and oversized bodies with 4xx, never 5xx', async () => {
      const alice = await signedIn(server);
      const csrf = await alice.csrf();
      const cases: { headers: Record<string, string>; body: string; status: number }[] = [
        { headers: { 'Content-Type': 'application/json' }, body: '{"_csrf":', status: 400 },
        {
          headers: { 'Content-Type': 'application/json' },
          body: '{"a":1}'.padEnd(20_000, ' '),
          status: 413,
        },
        {
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: `_csrf=${csrf}&x=${'a'.repeat(20_000)}`,
          status: 413,
        },
        {
          headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=koi8-r' },
          body: '_csrf=1',
          status: 415,
        },
        { headers: { 'Content-Type': 'application/json' }, body: '123', status: 400 },
        { headers: { 'Content-Type': 'text/plain' }, body: `_csrf=${csrf}`, status: 403 },
      ];
      for (const { headers, body, status } of cases) {
        const result = await alice.request('/logout', { method: 'POST', headers, body });
        expect(result.status, `${headers['Content-Type']} ${body.slice(0, 20)}`).toBe(status);
      }
      expect(await isOk(server, alice.token!)).toBe(true);
    });

    it('answers a bad percent-encoding in a route parameter with 400', async () => {
      const alice = await signedIn(server);
      const csrf = await alice.csrf();
      const result = await alice.request('/account/sessions/%E0%A4%A/revoke', {
        form: { _csrf: csrf },
      });
      expect(result.status).toBe(400);
    });
  });

  describe('disabled accounts (for the admin CLI)', () => {
    it('[SM-29] a disabled account is signed out on its next request and cannot sign in', async () => {
      const account = { email: 'hank@example.com', password: 'hank-password' };
      await signup(server, account);
      const hank = await signedIn(server, account);
      const user = server.demo.users.findByEmail(account.email)!;
      server.demo.users.setDisabled(user.id, true);
      const token = hank.token!;
      expect((await hank.me()).status).toBe(401);
      expect(await isOk(server, token)).toBe(false);
      expect((await new Browser(server).login(account)).status).toBe(401);
      server.demo.users.setDisabled(user.id, false);
      expect((await new Browser(server).login(account)).status).toBe(303);
    });
  });
});

describe('demo app: store outage', () => {
  it('[SM-57] [H-29] a failing session store answers 503, never 500, and recovers', async () => {
    let down = false;
    const server = await startDemo({
      wrapStore: (inner) =>
        new Proxy(inner, {
          get(target, property, receiver) {
            const value: unknown = Reflect.get(target, property, receiver);
            if (typeof value !== 'function' || property === 'close') return value;
            return (...args: unknown[]) =>
              down
                ? Promise.reject(new Error('connect ECONNREFUSED'))
                : (value as (...a: unknown[]) => unknown).apply(target, args);
          },
        }),
    });
    try {
      const alice = await signedIn(server);
      const token = alice.token!;
      const csrf = await alice.csrf();
      down = true;
      for (const result of [
        await alice.me(),
        await alice.request('/account'),
        await alice.request('/logout', { form: { _csrf: csrf } }),
        await new Browser(server).login(),
      ]) {
        expect(result.status).toBe(503);
        expect(result.headers.get('retry-after')).toBe('5');
        expect(result.body).not.toContain(token);
      }
      expect((await send(server, '/')).status).toBe(200); // no cookie, no store access
      down = false;
      expect(await isOk(server, token)).toBe(true); // the logout attempt changed nothing
      expect(server.events.some((event) => event.type === 'store.failed')).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('demo app: memory store', () => {
  it('works with the memory store as well', async () => {
    const server = await startDemo({ wrapStore: () => createMemoryStore() });
    try {
      const alice = await signedIn(server);
      expect((await alice.me()).json<{ email: string }>().email).toBe(ALICE.email);
      expect((await alice.post('/logout')).status).toBe(303);
      expect((await alice.me()).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
