import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOB,
  Browser,
  cookieSet,
  extractCSRF,
  isDeletion,
  isOk,
  meWith,
  parseSetCookie,
  rawGet,
  send,
  signedIn,
  signup,
  startDemo,
  wellFormedToken,
  type DemoServer,
  type Result,
} from './demo-helpers.js';

function expectNoServerError(status: number, label: string): void {
  expect(status, label).toBeGreaterThanOrEqual(400);
  expect(status, label).toBeLessThan(500);
}

describe('demo app: the session cookie over plain http (development mode)', () => {
  let server: DemoServer;

  beforeAll(async () => {
    server = await startDemo({ rotationIntervalSeconds: 60, rotationGraceSeconds: 10 });
    await signup(server, BOB);
  });
  afterAll(() => server.close());

  it('[SM-05] the token never appears in a body, a Location or JSON', async () => {
    const alice = new Browser(server);
    const issued = new Set<string>();
    const remember = (): void => {
      if (alice.token !== undefined) issued.add(alice.token);
    };
    await alice.login();
    remember();
    for (const path of [
      '/',
      '/account',
      '/api/me',
      '/account/sessions',
      '/api/sessions',
      '/login',
      '/signup',
    ]) {
      await alice.request(path);
    }
    server.clock.advance(61); // rotation
    await alice.request('/api/me');
    remember();
    await alice.post('/account/password', {
      current: 'correct horse battery staple',
      next: 'correct horse battery staple',
    });
    remember();
    await alice.request('/account');
    await alice.post('/logout');
    expect(issued.size).toBe(3);
    const transcript = alice.transcript.join('\n');
    for (const token of issued) expect(transcript).not.toContain(token);
    // Library events never carry a token either (SM-54).
    const events = JSON.stringify(server.events);
    for (const token of issued) expect(events).not.toContain(token);
  });

  it('[SM-05] a token offered anywhere but the Cookie header is ignored', async () => {
    const alice = await signedIn(server);
    const token = alice.token!;
    const probes: Result[] = [
      await send(server, `/api/me?sid=${token}`),
      await send(server, `/api/me;jsessionid=${token}`),
      await send(server, '/api/me', { headers: { 'X-Session-Id': token } }),
      await send(server, '/api/me', { headers: { Authorization: `Bearer ${token}` } }),
      await send(server, '/api/me', { headers: { Authorization: token } }),
    ];
    for (const probe of probes) expect([401, 404]).toContain(probe.status);
    expect(probes[0]!.status).toBe(401);
    // As a form field: no session is found, so alice's CSRF token is refused too; she lives on.
    const form = await send(server, '/logout', { form: { sid: token, _csrf: await alice.csrf() } });
    expect(form.status).toBe(403);
    expect(await isOk(server, token)).toBe(true);
  });

  it('[SM-06] X-Forwarded-Proto: https from an untrusted peer changes nothing: no Secure, no __Host-', async () => {
    const browser = new Browser(server);
    const csrf = await browser.csrf('/login');
    const result = await browser.request('/login', {
      form: { _csrf: csrf, email: 'alice@example.com', password: 'correct horse battery staple' },
      headers: { 'X-Forwarded-Proto': 'https' },
    });
    expect(result.status).toBe(303);
    const session = result.setCookies.find((header) => parseSetCookie(header).name === 'sid');
    expect(session).toMatch(/^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(result.setCookies.join('\n')).not.toMatch(/__Host-|Secure/);
  });

  it('[SM-15] [H-04] a never-issued well-formed token: 401, deleted, and never adopted at login', async () => {
    const forged = wellFormedToken();
    const probe = await meWith(server, forged);
    expect(probe.status).toBe(401);
    expect(cookieSet(probe, 'sid')).toBe('');
    expect(server.events.some((event) => event.type === 'session.unknown_token')).toBe(true);

    const browser = new Browser(server);
    browser.jar.set('sid', forged);
    const form = await browser.request('/login');
    expect(browser.token).toBeUndefined(); // the stale cookie was deleted at once
    browser.jar.set('sid', forged);
    const result = await browser.request('/login', {
      form: {
        _csrf: extractCSRF(form.body),
        email: 'alice@example.com',
        password: 'correct horse battery staple',
      },
    });
    expect(result.status).toBe(303);
    const issued = cookieSet(result, 'sid');
    expect(issued).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued).not.toBe(forged);
    expect(await isOk(server, forged)).toBe(false);
    expect(await isOk(server, issued!)).toBe(true);
    // Grey-box: nothing was ever stored under the forged token.
    const hash = createHash('sha256').update(forged).digest('base64url');
    expect(await server.store.findByTokenHash(hash)).toBeNull();
  });

  it('[SM-14] [H-03] variant names carrying a valid token are ignored in development mode too', async () => {
    const token = (await signedIn(server)).token!;
    for (const name of [
      'SID',
      'Sid',
      'sid ',
      'sid\t',
      '__Host-sid',
      '__Secure-sid',
      'sid-csrf',
      'sіd',
    ]) {
      const result = await rawGet(server, '/api/me', [
        Buffer.from(`Cookie: ${name}=${token}`, 'utf8'),
      ]);
      expect(result.status, JSON.stringify(name)).toBe(401);
    }
    // The separator's own space is not part of the name.
    expect((await rawGet(server, '/api/me', [`Cookie: a=1;  sid=${token}`])).status).toBe(200);
    expect(await isOk(server, token)).toBe(true);
  });

  describe('[SM-13] [H-01] [H-02] several session cookies', () => {
    let victim: string;
    let attacker: string;

    beforeAll(async () => {
      victim = (await signedIn(server)).token!;
      attacker = (await signedIn(server, BOB)).token!;
    });

    async function identity(headerLines: string[]): Promise<string> {
      const result = await rawGet(server, '/api/me', headerLines);
      expectNoServerError(result.status === 200 ? 400 : result.status, headerLines.join(' | '));
      if (result.status !== 200) return 'anonymous';
      return (JSON.parse(result.body) as { email: string }).email;
    }

    it('[H-01] two live tokens in one header: anonymous in both orders, never the attacker', async () => {
      const forward = await identity([`Cookie: sid=${victim}; sid=${attacker}`]);
      const backward = await identity([`Cookie: sid=${attacker}; sid=${victim}`]);
      expect(forward).toBe(backward);
      expect(forward).not.toBe(BOB.email);
      expect(server.events.some((event) => event.type === 'session.duplicate_cookie')).toBe(true);
      // The ambiguity killed neither session.
      expect(await isOk(server, victim)).toBe(true);
      expect(await isOk(server, attacker)).toBe(true);
    });

    it('[H-02] split Cookie headers behave exactly like one header, in both orders', async () => {
      const forward = await identity([`Cookie: sid=${victim}`, `Cookie: sid=${attacker}`]);
      const backward = await identity([`Cookie: sid=${attacker}`, `Cookie: sid=${victim}`]);
      expect(forward).toBe(backward);
      expect(forward).not.toBe(BOB.email);
    });

    it('[H-02] a lone valid cookie split from other cookies across headers still works', async () => {
      expect(await identity(['Cookie: theme=dark', `Cookie: sid=${victim}`])).toBe(
        'alice@example.com',
      );
      expect(await identity([`Cookie: sid=${victim}`, 'Cookie: lang=en; x=1'])).toBe(
        'alice@example.com',
      );
    });

    it('[H-02] the victim beside garbage or a dead token: the same answer in both orders', async () => {
      for (const other of ['garbage', wellFormedToken(), '']) {
        const forward = await identity([`Cookie: sid=${victim}`, `Cookie: sid=${other}`]);
        const backward = await identity([`Cookie: sid=${other}; sid=${victim}`]);
        expect(forward, other).toBe(backward);
        expect(forward).not.toBe(BOB.email);
      }
    });
  });

  describe('[SM-04] [H-05] [H-06] [H-22] hostile cookie values', () => {
    let valid: string;

    beforeAll(async () => {
      valid = (await signedIn(server)).token!;
    });

    const fetchable = (v: () => string): { name: string; value: () => string }[] => [
      { name: 'empty', value: () => '' },
      { name: '1 char', value: () => 'a' },
      { name: '42 chars', value: () => v().slice(0, 42) },
      { name: '44 chars', value: () => `${v()}A` },
      { name: 'valid + "="', value: () => `${v()}=` },
      { name: 'valid + space + x', value: () => `${v()} x` },
      { name: 'quoted valid', value: () => `"${v()}"` },
      { name: 'std base64 +/=', value: () => `${v().slice(0, 40)}+/=` },
      { name: '4 KiB', value: () => 'A'.repeat(4096) },
      { name: '8 KiB', value: () => 'A'.repeat(8192) },
      { name: ';;;', value: () => ';;;' },
      { name: 'percent garbage', value: () => '%E0%A4%A%ZZ%' },
      { name: 'percent-encoded NUL', value: () => '%00' },
      {
        name: 'percent-encoded valid',
        value: () =>
          encodeURIComponent(v()).replace(
            /[A-Za-z0-9]/g,
            (c) => `%${c.charCodeAt(0).toString(16)}`,
          ),
      },
      { name: 'SQL injection', value: () => "' OR '1'='1" },
      { name: 'Mongo operator', value: () => '{"$ne":null}' },
      { name: 'cookie-parser JSON', value: () => 'j:{"$gt":""}' },
      { name: 'signed cookie', value: () => `s:${v()}.c2lnbmF0dXJl` },
      { name: 'path traversal', value: () => '../../etc/passwd' },
      { name: 'backslashes', value: () => 'a\\b\\c' },
      { name: '__proto__', value: () => '__proto__' },
      { name: 'constructor', value: () => 'constructor' },
      { name: 'wildcard', value: () => '*' },
      { name: 'question mark', value: () => '?' },
      { name: 'comma pairs', value: () => `${v()}, sid=${v()}` },
      { name: 'a second =', value: () => `=${v()}` },
      { name: 'tab inside', value: () => `${v().slice(0, 20)}\t${v().slice(20)}` },
    ];

    for (const { name, value } of fetchable(() => valid)) {
      it(`[H-05] [H-06] ${name}: 401, nothing echoed`, async () => {
        const hostile = value();
        const result = await send(server, '/api/me', { headers: { Cookie: `sid=${hostile}` } });
        if (name === 'comma pairs') {
          // "V, sid=V" is one value with a comma in it, never V.
          expect(result.status).toBe(401);
        }
        expect(result.status, name).toBe(401);
        expect(result.json()).toEqual({ error: 'Not signed in' });
        if (hostile.length >= 3) expect(result.body).not.toContain(hostile);
        for (const header of result.setCookies) expect(header).toMatch(/^sid=; /);
      });
    }

    it('[H-22] malformed Cookie headers: anonymous or 4xx, never 5xx', async () => {
      const lines: (string | Buffer)[][] = [
        [`Cookie: =${valid}`],
        ['Cookie: sid'],
        [`Cookie: sid==${valid}`],
        ['Cookie: ;;;'],
        ['Cookie: $Version=1; $Path=/'],
        [`Cookie: ${Array.from({ length: 500 }, (_, i) => `c${i}=${i}`).join('; ')}`],
        [`Cookie: sid=${'A'.repeat(16 * 1024)}`],
        [`Cookie: sid=${'A'.repeat(64 * 1024)}`],
        [
          Buffer.concat([
            Buffer.from('Cookie: sid='),
            Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i)),
          ]),
        ],
        [
          Buffer.concat([
            Buffer.from('Cookie: sid='),
            Buffer.from('s\u00e9ssion\u{1F36A}\uFF53\uFF49\uFF44', 'utf8'),
          ]),
        ],
        [Buffer.from('Cookie: sid=abc\u0000def', 'latin1')],
        ['Cookie: sid=abc\rSet-Cookie: injected=1'],
        ['Cookie: sid=abc\nSet-Cookie: injected=1'],
        ['Cookie: sid=abc', 'Set-Cookie: injected=1'],
      ];
      for (const headerLines of lines) {
        const label = JSON.stringify(headerLines.map(String)).slice(0, 80);
        const result = await rawGet(server, '/api/me', headerLines);
        expectNoServerError(result.status, label);
        expect(result.head).not.toMatch(/injected/i);
        expect(result.body).not.toMatch(/injected|AAAAAAAAAAAAAAAA|\$Version/);
      }
      // The server is still answering, and the valid session still works.
      expect(await isOk(server, valid)).toBe(true);
    });

    it('[SM-04] a malformed value is refused before any store lookup', async () => {
      const before = server.events.length;
      await send(server, '/api/me', { headers: { Cookie: "sid=' OR '1'='1" } });
      const types = server.events.slice(before).map((event) => event.type);
      expect(types).toContain('session.malformed_token');
      expect(types).not.toContain('session.unknown_token');
    });
  });
});

describe('demo app: the session cookie behind a trusted TLS proxy', () => {
  let server: DemoServer;

  beforeAll(async () => {
    server = await startDemo({
      https: true,
      rotationIntervalSeconds: 60,
      rotationGraceSeconds: 10,
    });
    await signup(server, BOB);
  });
  afterAll(() => server.close());

  const SESSION_COOKIE = /^__Host-sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/;

  it('[SM-06] [SM-07] [SM-08] [SM-09] [SM-10] [SM-11] login sets __Host-sid, Secure, HttpOnly, Lax, Path=/, no Domain, no Max-Age', async () => {
    const browser = new Browser(server);
    const form = await browser.request('/login');
    const csrfCookie = form.setCookies.find((header) => header.startsWith('__Host-sid-csrf='));
    expect(csrfCookie).toMatch(
      /^__Host-sid-csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
    );
    const result = await browser.login();
    expect(result.status).toBe(303);
    const session = result.setCookies.filter(
      (header) => parseSetCookie(header).name === '__Host-sid',
    );
    expect(session).toHaveLength(1);
    expect(session[0]).toMatch(SESSION_COOKIE);
    expect(session[0]).not.toMatch(/Domain|Max-Age|Expires/i);
    expect(Buffer.byteLength(session[0]!.split(';')[0]!)).toBeLessThan(4096);
    for (const header of result.setCookies) {
      expect(header).toMatch(/; Secure(;|$)/);
      expect(header).toMatch(/^__Host-/);
    }
    expect((await browser.me()).status).toBe(200);
  });

  it('[SM-06] [SM-07] rotation and deletion cookies are Secure and __Host- too', async () => {
    const browser = await signedIn(server);
    server.clock.advance(61);
    const rotated = await browser.me();
    expect(rotated.setCookies).toHaveLength(1);
    expect(rotated.setCookies[0]).toMatch(SESSION_COOKIE);
    const logout = await browser.post('/logout');
    const deletion = logout.setCookies.find((header) => header.startsWith('__Host-sid='));
    expect(deletion).toBeDefined();
    expect(isDeletion(deletion!)).toBe(true);
    expect(deletion).toMatch(/^__Host-sid=; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=0/);
    expect(deletion).not.toMatch(/Domain/i);
  });

  it('[SM-49] logout and logout-everywhere send Clear-Site-Data over https only', async () => {
    for (const path of ['/logout', '/logout-everywhere']) {
      const browser = await signedIn(server);
      const result = await browser.post(path);
      expect(result.status).toBe(303);
      expect(result.headers.get('clear-site-data')).toBe('"cache", "cookies", "storage"');
    }
    const plain = await startDemo();
    try {
      const browser = await signedIn(plain);
      const result = await browser.post('/logout');
      expect(result.status).toBe(303);
      expect(result.headers.get('clear-site-data')).toBeNull();
    } finally {
      await plain.close();
    }
  });

  it('[SM-06] [SM-07] the plain-http cookie name does not count over https', async () => {
    const token = (await signedIn(server)).token!;
    const result = await send(server, '/api/me', { headers: { Cookie: `sid=${token}` } });
    expect(result.status).toBe(401);
  });

  it('[SM-14] [H-03] variant names carrying a valid token are not the session cookie', async () => {
    const token = (await signedIn(server)).token!;
    for (const name of [
      '__host-sid',
      '__HOST-sid',
      '__Host-SID',
      '__Secure-sid',
      'sid',
      'sid ',
      '__Host-sid-csrf',
      'Host-sid',
      '__Host-ѕid',
    ]) {
      const result = await rawGet(server, '/api/me', [
        Buffer.from(`Cookie: ${name}=${token}`, 'utf8'),
      ]);
      expect(result.status, JSON.stringify(name)).toBe(401);
    }
    expect(await isOk(server, token)).toBe(true);
  });

  it('[SM-14] [H-03] a shadowing variant beside the real cookie never flips the identity', async () => {
    const alice = (await signedIn(server)).token!;
    const bob = (await signedIn(server, BOB)).token!;
    for (const header of [
      `__host-sid=${bob}; __Host-sid=${alice}`,
      `__Host-sid=${alice}; __HOST-sid=${bob}`,
    ]) {
      const result = await send(server, '/api/me', { headers: { Cookie: header } });
      expect(result.status).toBe(200);
      expect(result.json<{ email: string }>().email).toBe('alice@example.com');
    }
  });

  it('[SM-14] [H-06] j:{"$gt":""} is a malformed token, not JSON', async () => {
    const result = await send(server, '/api/me', {
      headers: { Cookie: '__Host-sid=j:{"$gt":""}' },
    });
    expect(result.status).toBe(401);
    expect(result.body).not.toContain('$gt');
  });

  it('[SM-48] Cache-Control: no-store and Vary: Cookie on signed-in responses, login and logout', async () => {
    const browser = new Browser(server);
    const login = await browser.login();
    const check = (result: Result, label: string): void => {
      expect(result.headers.get('cache-control'), label).toBe('no-store');
      expect(result.headers.get('vary') ?? '', label).toMatch(/\bCookie\b/);
    };
    check(login, 'POST /login');
    for (const path of ['/', '/account', '/api/me', '/account/sessions', '/api/sessions']) {
      check(await browser.request(path), path);
    }
    const logout = await browser.post('/logout');
    check(logout, 'POST /logout');
    expect(logout.setCookies.some(isDeletion)).toBe(true);
  });
});

describe('demo app: no oracle between dead tokens', () => {
  it('[SM-56] unknown, expired, revoked and rotated-out tokens get identical status and body', async () => {
    const server = await startDemo({
      idleTimeoutSeconds: 300,
      rotationIntervalSeconds: 100,
      rotationGraceSeconds: 10,
    });
    try {
      const expired = await signedIn(server);
      const revoked = await signedIn(server);
      const rotated = await signedIn(server);
      const deadExpired = expired.token!;
      const deadRevoked = revoked.token!;
      const oldRotated = rotated.token!;
      await revoked.post('/logout');

      server.clock.advance(101);
      expect((await rotated.me()).status).toBe(200); // rotates to a new token
      expect(rotated.token).not.toBe(oldRotated);
      server.clock.advance(150);
      expect((await rotated.me()).status).toBe(200); // keeps `rotated` alive
      server.clock.advance(50); // 301 s: `expired` is idle-expired, the grace of oldRotated long over

      const answers = [];
      for (const token of [wellFormedToken(), deadExpired, deadRevoked, oldRotated]) {
        const result = await meWith(server, token);
        answers.push({
          status: result.status,
          body: result.body,
          setCookies: result.setCookies,
          contentType: result.headers.get('content-type'),
        });
      }
      expect(answers[0]!.status).toBe(401);
      for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
    } finally {
      await server.close();
    }
  });
});
