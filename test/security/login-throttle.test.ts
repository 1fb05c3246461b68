import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientKey, createLoginThrottle } from '../../demo/login-throttle.js';
import {
  ALICE,
  Browser,
  cookieSet,
  signedIn,
  startDemo,
  type DemoServer,
  type Result,
} from '../integration/demo-helpers.js';

/**
 * SM-55 (ASVS 6.3.1): password guessing is throttled per account and per client, before any
 * password is checked, and a correct password is never slowed before the limit.
 */
describe('[SM-55] the login throttle (demo/login-throttle.ts)', () => {
  const clock = { now: 0 };
  const now = (): number => clock.now;

  it('[SM-55] by default an account is throttled after 5 failures in 15 minutes, until its window ends', () => {
    const throttle = createLoginThrottle({ now });
    const attempt = { account: 'alice@example.com', client: null };
    for (let i = 0; i < 5; i += 1) {
      expect(throttle.retryAfterSeconds(attempt)).toBe(0);
      throttle.recordFailure(attempt);
    }
    expect(throttle.retryAfterSeconds(attempt)).toBe(900);
    clock.now += 899_500;
    expect(throttle.retryAfterSeconds(attempt)).toBe(1);
    clock.now += 500;
    expect(throttle.retryAfterSeconds(attempt)).toBe(0);
  });

  it('[SM-55] by default a client is throttled after 20 failures in 15 minutes, whatever the accounts', () => {
    const throttle = createLoginThrottle({ now });
    for (let i = 0; i < 20; i += 1) {
      const attempt = { account: `user${i}@example.com`, client: '203.0.113.7' };
      expect(throttle.retryAfterSeconds(attempt)).toBe(0);
      throttle.recordFailure(attempt);
    }
    expect(throttle.retryAfterSeconds({ account: null, client: '203.0.113.7' })).toBe(900);
    expect(
      throttle.retryAfterSeconds({ account: 'user0@example.com', client: '203.0.113.8' }),
    ).toBe(0);
  });

  it('[SM-55] a success clears the account count but not the client count', () => {
    const throttle = createLoginThrottle({
      now,
      maxFailuresPerAccount: 2,
      maxFailuresPerClient: 3,
    });
    const attempt = { account: 'alice@example.com', client: '203.0.113.7' };
    throttle.recordFailure(attempt);
    throttle.recordSuccess(attempt);
    throttle.recordFailure(attempt);
    expect(throttle.retryAfterSeconds({ account: attempt.account, client: null })).toBe(0);
    throttle.recordFailure(attempt);
    expect(throttle.retryAfterSeconds({ account: null, client: attempt.client })).toBeGreaterThan(
      0,
    );
  });

  it('[SM-55] tracks a bounded number of keys, dropping expired windows before live ones', () => {
    const throttle = createLoginThrottle({ now, maxFailuresPerAccount: 1, maxTracked: 2 });
    const at = (account: string): { account: string; client: null } => ({ account, client: null });
    throttle.recordFailure(at('old'));
    clock.now += 901_000;
    throttle.recordFailure(at('target'));
    throttle.recordFailure(at('other'));
    // Three keys, one limit of two: the expired window went, the live one stays.
    expect(throttle.retryAfterSeconds(at('target'))).toBeGreaterThan(0);
    // Past the bound the oldest live window goes too: memory stays bounded under a flood.
    for (let i = 0; i < 1000; i += 1) throttle.recordFailure(at(`flood${i}`));
    expect(throttle.retryAfterSeconds(at('target'))).toBe(0);
    expect(throttle.retryAfterSeconds(at('flood999'))).toBeGreaterThan(0);
  });

  it('[SM-55] counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    expect(clientKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002::ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey(null)).toBeNull();
  });
});

/** POST /login with these credentials from a fresh browser (and client address, if given). */
async function tryLogin(
  server: DemoServer,
  account: { email: string; password: string },
  headers: Record<string, string> = {},
): Promise<Result> {
  const browser = new Browser(server);
  const csrf = await browser.csrf('/login');
  return browser.request('/login', {
    form: { _csrf: csrf, email: account.email, password: account.password },
    headers,
  });
}

function expectThrottled(result: Result): void {
  expect(result.status).toBe(429);
  expect(Number(result.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(result.headers.get('retry-after'))).toBeLessThanOrEqual(900);
  // No session was issued.
  expect(cookieSet(result, 'sid')).toBeUndefined();
  expect(cookieSet(result, '__Host-sid')).toBeUndefined();
}

// Every wrong password costs a real scrypt hash (N=2^17), hence the longer timeouts.
describe('[SM-55] failed sign-ins in the demo', { timeout: 90_000 }, () => {
  // Behind a trusted proxy (loopback), so each test can be its own client by X-Forwarded-For.
  let server: DemoServer;
  let nextClient = 1;
  const newClient = (): Record<string, string> => ({
    'X-Forwarded-For': `198.51.100.${nextClient++}`,
  });

  beforeAll(async () => {
    server = await startDemo({ https: true });
  });
  afterAll(() => server.close());
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A new account, so that tests do not share account counters. */
  async function account(name: string): Promise<{ email: string; password: string }> {
    const created = { email: `${name}@example.com`, password: `${name}-password-1` };
    await server.demo.users.create(created.email, created.password);
    return created;
  }

  it('[SM-55] after 5 wrong passwords even the right one gets 429 with Retry-After, and no password is checked', async () => {
    const carol = await account('carol');
    const client = newClient();
    for (let i = 0; i < 5; i += 1) {
      expect((await tryLogin(server, { ...carol, password: `wrong-${i}` }, client)).status).toBe(
        401,
      );
    }
    const verify = vi.spyOn(server.demo.users, 'verifyCredentials');
    const throttled = await tryLogin(server, carol, client);
    expectThrottled(throttled);
    expect(throttled.headers.get('content-type')).toMatch(/^text\/html/);
    expect(throttled.body).toContain('Too many failed password attempts');
    expect(throttled.body).toMatch(/Try again in\s+15 minutes/);
    // From any other client too: the account is what is being guessed.
    expectThrottled(await tryLogin(server, carol, newClient()));
    expect(verify).not.toHaveBeenCalled();
    expect(server.demoEvents.some((event) => event.type === 'login.throttled')).toBe(true);

    server.clock.advance(15 * 60);
    expect((await tryLogin(server, carol, client)).status).toBe(303);
  });

  it('[SM-55] the correct password is never refused before the limit, and a success resets the account count', async () => {
    const dana = await account('dana');
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 4; i += 1) {
        const wrong = await tryLogin(server, { ...dana, password: 'wrong' }, newClient());
        expect(wrong.status).toBe(401);
      }
      const right = await tryLogin(server, dana, newClient());
      expect(right.status).toBe(303);
      expect(right.location).toBe('/account');
    }
  });

  it('[SM-55] unknown emails are counted like real ones, so a 429 reveals no account', async () => {
    const nobody = { email: 'nobody-here@example.com', password: 'whatever-1' };
    const client = newClient();
    for (let i = 0; i < 5; i += 1)
      expect((await tryLogin(server, nobody, client)).status).toBe(401);
    expectThrottled(await tryLogin(server, nobody, client));
  });

  it('[SM-55] JSON callers get a JSON 429 with Retry-After', async () => {
    const erin = await account('erin');
    const client = newClient();
    for (let i = 0; i < 5; i += 1) await tryLogin(server, { ...erin, password: 'wrong' }, client);
    const result = await tryLogin(server, erin, { ...client, Accept: 'application/json' });
    expectThrottled(result);
    expect(result.headers.get('content-type')).toMatch(/^application\/json/);
    expect(result.json()).toEqual({
      error: expect.stringContaining('Too many failed password attempts') as string,
      retryAfterSeconds: Number(result.headers.get('retry-after')),
    });
  });

  it('[SM-55] wrong current passwords on /account/password count against the account too', async () => {
    const fay = await account('fay');
    const client = newClient();
    const browser = new Browser(server);
    expect((await browser.login(fay)).status).toBe(303);
    for (let i = 0; i < 5; i += 1) {
      const wrong = await browser.post('/account/password', {
        current: `wrong-${i}`,
        next: 'fay-new-password',
      });
      expect(wrong.status).toBe(400);
    }
    const verify = vi.spyOn(server.demo.users, 'verifyPassword');
    const throttled = await browser.request('/account/password', {
      form: { _csrf: await browser.csrf(), current: fay.password, next: 'fay-new-password' },
    });
    expectThrottled(throttled);
    expect(verify).not.toHaveBeenCalled();
    // The same account counter guards sign-in, and the password did not change.
    expectThrottled(await tryLogin(server, fay, client));
    server.clock.advance(15 * 60);
    expect((await tryLogin(server, fay, client)).status).toBe(303);
  });
});

describe('[SM-55] failed sign-ins per client', { timeout: 90_000 }, () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('[SM-55] a rotating X-Forwarded-For does not reset the client count when the proxy is not trusted', async () => {
    const server = await startDemo({ loginThrottle: { maxFailuresPerClient: 3 } });
    try {
      for (let i = 0; i < 3; i += 1) {
        const result = await tryLogin(
          server,
          { email: `guess${i}@example.com`, password: 'wrong-password' },
          { 'X-Forwarded-For': `203.0.113.${i + 1}` },
        );
        expect(result.status).toBe(401);
      }
      // A new made-up address, a new account, the right password: still the same client.
      expectThrottled(await tryLogin(server, ALICE, { 'X-Forwarded-For': '203.0.113.99' }));
      expectThrottled(await tryLogin(server, ALICE));
    } finally {
      await server.close();
    }
  });

  it('[SM-55] behind a trusted proxy each forwarded client counts on its own', async () => {
    const server = await startDemo({ https: true, loginThrottle: { maxFailuresPerClient: 3 } });
    try {
      for (let i = 0; i < 3; i += 1) {
        const result = await tryLogin(
          server,
          { email: `guess${i}@example.com`, password: 'wrong-password' },
          { 'X-Forwarded-For': '203.0.113.1' },
        );
        expect(result.status).toBe(401);
      }
      expectThrottled(await tryLogin(server, ALICE, { 'X-Forwarded-For': '203.0.113.1' }));
      expect((await tryLogin(server, ALICE, { 'X-Forwarded-For': '203.0.113.2' })).status).toBe(
        303,
      );
      const alice = await signedIn(server);
      expect((await alice.me()).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
