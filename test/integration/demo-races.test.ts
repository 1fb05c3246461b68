import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Browser,
  extractCSRF,
  isOk,
  signedIn,
  signup,
  startDemo,
  type DemoServer,
} from './demo-helpers.js';

/**
 * The races the security review reproduced over HTTP, fired with real parallel requests on
 * loopback, bounded in count: each must leave no session alive that should have ended.
 */

let server: DemoServer;
let accounts = 0;

beforeAll(async () => {
  server = await startDemo();
});

afterAll(async () => {
  await server.close();
});

async function freshAccount(): Promise<{ email: string; password: string }> {
  const account = { email: `racer${accounts++}@example.com`, password: 'old-password-123' };
  await signup(server, account);
  return account;
}

/** Every token a browser was ever given for the session cookie. */
function tokensSeen(browser: Browser): () => string[] {
  const seen: string[] = [];
  const request = browser.request.bind(browser);
  browser.request = async (...args) => {
    const result = await request(...args);
    if (browser.token !== undefined && !seen.includes(browser.token)) seen.push(browser.token);
    return result;
  };
  if (browser.token !== undefined) seen.push(browser.token);
  return () => seen;
}

describe('races over HTTP', () => {
  it.each([0, 10, 25, 40, 55, 70])(
    '[SM-31] POST /account/password on A with POST /logout-everywhere on B %i ms later leaves A signed out',
    async (delay) => {
      const account = await freshAccount();
      const a = await signedIn(server, account, 'Device A');
      const b = await signedIn(server, account, 'Device B');
      const aTokens = tokensSeen(a);
      const aCSRF = await a.csrf();
      const bCSRF = await b.csrf();

      const [change, everywhere] = await Promise.all([
        a.request('/account/password', {
          form: { _csrf: aCSRF, current: account.password, next: 'new-password-456' },
        }),
        sleep(delay).then(() => b.request('/logout-everywhere', { form: { _csrf: bCSRF } })),
      ]);

      expect(change.status).toBeLessThan(500);
      expect(everywhere.status).toBe(303);
      for (const token of aTokens()) expect(await isOk(server, token)).toBe(false);
      expect(await isOk(server, b.token ?? 'x'.repeat(43))).toBe(false);
    },
    60_000,
  );

  it('[SM-28] logins with the old password racing a password change never survive it', async () => {
    const account = await freshAccount();
    const a = await signedIn(server, account, 'Device A');
    const csrf = await a.csrf();
    const racers = Array.from({ length: 12 }, (_, i) => new Browser(server, `Racer ${i}`));
    const forms = await Promise.all(racers.map((racer) => racer.csrf('/login')));

    const change = a.request('/account/password', {
      form: { _csrf: csrf, current: account.password, next: 'new-password-456' },
    });
    const logins = racers.map((racer, i) =>
      sleep(48 + 2 * i).then(() =>
        racer.request('/login', {
          form: { _csrf: forms[i]!, email: account.email, password: account.password },
        }),
      ),
    );
    const results = await Promise.all([change, ...logins]);

    expect(results[0]?.status).toBe(303);
    for (const result of results) expect(result.status).toBeLessThan(500);
    for (const racer of racers) {
      if (racer.token !== undefined) expect(await isOk(server, racer.token)).toBe(false);
    }
    expect((await a.me()).status).toBe(200);
    // Thirteen scrypt hashes at N=2^17 on two cores.
  }, 90_000);
});

describe('a slow upload across a rotation', () => {
  it('[SM-20] an upload sent with the old token just after a rotation is not taken for theft however long its body takes', async () => {
    const demo = await startDemo({ rotationIntervalSeconds: 10, rotationGraceSeconds: 2 });
    try {
      const browser = await signedIn(demo);
      const t1 = browser.token!;
      demo.clock.advance(11);
      await browser.me(); // rotates: the browser now holds T2
      const t2 = browser.token!;
      expect(t2).not.toBe(t1);
      const csrf = extractCSRF((await browser.request('/account')).body); // T2 seen

      // Another tab started an upload with T1 a moment before the cookie changed; its body
      // takes 1.5 s while 3 s pass on the server's clock (grace: 2 s from the rotation).
      const body = new URLSearchParams({ _csrf: csrf, note: 'x'.repeat(2_000) }).toString();
      const status = await new Promise<number>((resolve, reject) => {
        const upload = httpRequest(`${demo.base}/no-such-upload-route`, {
          method: 'POST',
          headers: {
            Cookie: `sid=${t1}`,
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': String(Buffer.byteLength(body)),
          },
        });
        upload.on('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        upload.on('error', reject);
        upload.write(body.slice(0, 100));
        demo.clock.advance(3);
        void sleep(1_500).then(() => upload.end(body.slice(100)));
      });

      expect(status).toBe(404);
      expect(demo.events.some((e) => e.type === 'session.theft_detected')).toBe(false);
      expect(await isOk(demo, t2)).toBe(true);
    } finally {
      await demo.close();
    }
  });
});
