import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOB,
  Browser,
  cookieSet,
  extractCSRF,
  isOk,
  send,
  signedIn,
  signup,
  startDemo,
  type DemoServer,
  type Result,
} from './demo-helpers.js';

/** Flips one character of a token, keeping it in the base64url alphabet. */
function flip(token: string, index: number): string {
  const char = token[index]!;
  return token.slice(0, index) + (char === 'A' ? 'B' : 'A') + token.slice(index + 1);
}

describe('demo app: CSRF protection', () => {
  let server: DemoServer;

  beforeAll(async () => {
    server = await startDemo();
    await signup(server, BOB);
  });
  afterAll(() => server.close());

  /** A rejected unsafe probe: 403, and the session is untouched. */
  async function expectRejected(browser: Browser, result: Result, label: string): Promise<void> {
    expect(result.status, label).toBe(403);
    expect(cookieSet(result, 'sid'), label).toBeUndefined();
    expect(await isOk(server, browser.token!), label).toBe(true);
  }

  it('[SM-35] [H-15] every unsafe route refuses a request without _csrf, changing nothing', async () => {
    const alice = await signedIn(server);
    const other = await signedIn(server);
    const otherId = (await other.me()).json<{ sessionId: string }>().sessionId;
    const before = (await alice.request('/api/sessions')).body;
    const routes: [string, Record<string, string>][] = [
      ['/logout', {}],
      ['/logout-everywhere', {}],
      ['/account/password', { current: 'correct horse battery staple', next: 'a-new-password' }],
      [`/account/sessions/${otherId}/revoke`, {}],
      ['/login', { email: BOB.email, password: BOB.password }],
      ['/signup', { email: 'mallory@example.com', password: 'mallory-password' }],
    ];
    for (const [path, form] of routes) {
      await expectRejected(alice, await alice.request(path, { form }), path);
    }
    expect(await isOk(server, other.token!)).toBe(true);
    expect((await alice.me()).json<{ email: string }>().email).toBe('alice@example.com');
    expect(server.demo.users.findByEmail('mallory@example.com')).toBeNull();
    expect((await new Browser(server).login()).status).toBe(303); // password unchanged
    const after = (await alice.request('/api/sessions')).json<unknown[]>();
    expect(after.length).toBeGreaterThanOrEqual((JSON.parse(before) as unknown[]).length);
    const rejections = server.events.filter((event) => event.type === 'csrf.rejected');
    expect(rejections.length).toBeGreaterThanOrEqual(routes.length);
    expect(rejections.every((event) => event.reason === 'token-missing')).toBe(true);
  });

  it('[SM-36] [SM-39] [H-15] wrong, foreign, tampered and ambiguous tokens are refused', async () => {
    const alice = await signedIn(server);
    const bob = await signedIn(server, BOB);
    const good = await alice.csrf();
    const bobs = await bob.csrf();
    const anonymous = await new Browser(server).csrf('/login');
    const cases: [string, Record<string, string | string[]>][] = [
      ['empty', { _csrf: '' }],
      ['short', { _csrf: good.slice(0, 40) }],
      ['long', { _csrf: `${good}A` }],
      ['bad alphabet', { _csrf: `${good.slice(0, 84)}+/` }],
      ['flipped in the mask', { _csrf: flip(good, 3) }],
      ['flipped in the body', { _csrf: flip(good, 60) }],
      ["bob's token", { _csrf: bobs }],
      ["a visitor's token", { _csrf: anonymous }],
      ['repeated field, different', { _csrf: [good, bobs] }],
      ['repeated field, same', { _csrf: [good, good] }],
    ];
    for (const [label, form] of cases) {
      await expectRejected(alice, await alice.request('/logout', { form }), label);
    }
    await expectRejected(
      alice,
      await alice.request('/logout', { form: { _csrf: good }, headers: { 'X-CSRF-Token': bobs } }),
      'header differs from field',
    );
    await expectRejected(
      alice,
      await alice.request(`/logout?_csrf=${good}`, { form: {} }),
      'token in the query string',
    );
    const cookieOnly = await send(server, '/logout', {
      method: 'POST',
      headers: { Cookie: `${alice.cookieHeader()}; _csrf=${good}` },
    });
    await expectRejected(alice, cookieOnly, 'token in a cookie');
    for (const value of [123, [], {}, null, true, [good]]) {
      const result = await alice.request('/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ _csrf: value }),
      });
      await expectRejected(alice, result, `JSON ${JSON.stringify(value)}`);
    }
    // And the same token in both places is fine.
    const both = await alice.request('/logout', {
      form: { _csrf: good },
      headers: { 'X-CSRF-Token': good },
    });
    expect(both.status).toBe(303);
  });

  it('[SM-38] every render masks the token afresh; each one works', async () => {
    const alice = await signedIn(server);
    const first = await alice.csrf();
    const second = await alice.csrf();
    expect(first).not.toBe(second);
    const a = await signedIn(server);
    expect((await a.request('/logout', { form: { _csrf: first } })).status).toBe(403); // not a's
    expect(
      (
        await alice.request('/logout-everywhere', {
          form: { _csrf: first },
          headers: { Accept: 'text/html' },
        })
      ).status,
    ).toBe(303);
    const again = await signedIn(server);
    const t1 = await again.csrf();
    await again.csrf();
    expect((await again.request('/logout', { form: { _csrf: t1 } })).status).toBe(303);
  });

  it('[SM-36] the CSRF token never travels in a Set-Cookie', async () => {
    const browser = new Browser(server);
    const page = await browser.request('/login');
    const token = extractCSRF(page.body);
    expect(page.setCookies.join('\n')).not.toContain(token);
    const login = await browser.request('/login', {
      form: { _csrf: token, email: 'alice@example.com', password: 'correct horse battery staple' },
    });
    expect(login.setCookies.join('\n')).not.toContain(token);
  });

  it('[SM-40] [H-16] cross-site and same-site Sec-Fetch-Site are refused even with a valid token', async () => {
    const alice = await signedIn(server);
    for (const site of ['cross-site', 'same-site', 'Cross-Site']) {
      const csrf = await alice.csrf();
      const result = await alice.request('/logout', {
        form: { _csrf: csrf },
        headers: { 'Sec-Fetch-Site': site },
      });
      await expectRejected(alice, result, site);
    }
    for (const site of ['same-origin', 'none']) {
      const browser = await signedIn(server);
      const csrf = await browser.csrf();
      const result = await browser.request('/logout', {
        form: { _csrf: csrf },
        headers: { 'Sec-Fetch-Site': site },
      });
      expect(result.status, site).toBe(303);
    }
    const reasons = server.events.filter((e) => e.type === 'csrf.rejected').map((e) => e.reason);
    expect(reasons).toContain('cross-site');
    expect(reasons).toContain('same-site');
  });

  it('[SM-40] [H-16] a list-valued Sec-Fetch-Site never counts as same-origin: Origin decides', async () => {
    const alice = await signedIn(server);
    for (const site of ['same-origin, cross-site', 'same-origin,same-site']) {
      const csrf = await alice.csrf();
      const foreign = await alice.request('/account/sessions/AAAAAAAAAAAAAAAAAAAAAA/revoke', {
        form: { _csrf: csrf },
        headers: { 'Sec-Fetch-Site': site, Origin: 'https://evil.test' },
      });
      await expectRejected(alice, foreign, site);
      const own = await alice.request('/account/sessions/AAAAAAAAAAAAAAAAAAAAAA/revoke', {
        form: { _csrf: csrf },
        headers: { 'Sec-Fetch-Site': site, Origin: server.base },
      });
      expect(own.status, site).toBe(404);
    }
  });

  it('[SM-41] [H-17] a foreign Origin is refused; the exact own origin passes', async () => {
    const alice = await signedIn(server);
    const own = server.base;
    const foreign = [
      'null',
      'https://evil.test',
      `${own}.evil.test`,
      `https://evil.test/${own}`,
      own.replace('http://', 'https://'),
      `${own}/`,
      own.replace('127.0.0.1', '127.0.0.2'),
      'http://127.0.0.1',
      `http://127.0.0.1:${server.port + 1}`,
      `http://user@127.0.0.1:${server.port}`,
      'https://[',
    ];
    for (const origin of foreign) {
      const csrf = await alice.csrf();
      const result = await alice.request('/logout', {
        form: { _csrf: csrf },
        headers: { Origin: origin, 'Sec-Fetch-Site': 'same-origin' },
      });
      await expectRejected(alice, result, origin);
    }
    const csrf = await alice.csrf();
    const result = await alice.request('/logout', {
      form: { _csrf: csrf },
      headers: { Origin: own },
    });
    expect(result.status).toBe(303);
  });

  it('[SM-42] with neither Sec-Fetch-Site nor Origin the token is still required', async () => {
    const alice = await signedIn(server);
    await expectRejected(
      alice,
      await alice.request('/logout', { form: {}, headers: { Referer: `${server.base}/account` } }),
      'no token',
    );
    const csrf = await alice.csrf();
    expect((await alice.request('/logout', { form: { _csrf: csrf } })).status).toBe(303);
  });

  it('[SM-45] [H-28] a cross-site login form is refused without any session cookie', async () => {
    const attacker = new Browser(server);
    const csrf = await attacker.csrf('/login');
    const result = await attacker.request('/login', {
      form: { _csrf: csrf, email: BOB.email, password: BOB.password },
      headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.test' },
    });
    expect(result.status).toBe(403);
    expect(cookieSet(result, 'sid')).toBeUndefined();
    const noToken = await send(server, '/login', {
      form: { email: BOB.email, password: BOB.password },
    });
    expect(noToken.status).toBe(403);
    expect(cookieSet(noToken, 'sid')).toBeUndefined();
  });

  it('[SM-47] unsafe responses vary on Origin and Sec-Fetch-Site', async () => {
    const alice = await signedIn(server);
    const result = await alice.request('/logout', { form: {} });
    const vary = (result.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase());
    expect(vary).toContain('origin');
    expect(vary).toContain('sec-fetch-site');
    expect(vary.length).toBe(new Set(vary).size);
  });

  it('[H-21] a cross-origin text/plain body is refused, and never a 500', async () => {
    const alice = await signedIn(server);
    const csrf = await alice.csrf();
    const result = await alice.request('/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: 'https://evil.test' },
      body: `{"_csrf":"${csrf}"}`,
    });
    await expectRejected(alice, result, 'text/plain');
  });
});

describe('demo app: CSRF behind a trusted TLS proxy', () => {
  it('[SM-41] [SM-44] the own origin is https://host; an http:// origin is refused', async () => {
    const server = await startDemo({ https: true });
    try {
      const alice = await signedIn(server);
      const own = `https://127.0.0.1:${server.port}`;
      const reject = async (headers: Record<string, string>): Promise<void> => {
        const csrf = await alice.csrf();
        const result = await alice.request('/logout', { form: { _csrf: csrf }, headers });
        expect(result.status, JSON.stringify(headers)).toBe(403);
      };
      await reject({ Origin: server.base });
      await reject({ Origin: 'https://evil.test' });
      const csrf = await alice.csrf();
      const ok = await alice.request('/logout', {
        form: { _csrf: csrf },
        headers: { Origin: own },
      });
      expect(ok.status).toBe(303);
    } finally {
      await server.close();
    }
  });

  it('[SM-44] X-Forwarded-Host from an untrusted peer does not move the expected origin', async () => {
    const server = await startDemo();
    try {
      const alice = await signedIn(server);
      const csrf = await alice.csrf();
      const result = await alice.request('/logout', {
        form: { _csrf: csrf },
        headers: { 'X-Forwarded-Host': 'evil.test', Origin: 'http://evil.test' },
      });
      expect(result.status).toBe(403);
      expect(await isOk(server, alice.token!)).toBe(true);
    } finally {
      await server.close();
    }
  });
});
