import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALICE,
  Browser,
  send,
  signedIn,
  startDemo,
  type DemoServer,
  type Result,
} from '../integration/demo-helpers.js';

/**
 * SM-59 (ASVS 3.4.1): HSTS on every response served over HTTPS, for at least a year and for
 * subdomains; never over plain http, where it proves nothing (RFC 6797 §8.1).
 */
const HSTS = 'max-age=31536000; includeSubDomains';

/** One of each kind of answer: pages, redirects, JSON, 401, 403, 404, 400, signed in or not. */
async function everyKindOfResponse(server: DemoServer): Promise<[string, number, Result][]> {
  const anonymous = new Browser(server);
  const alice = await signedIn(server);
  const csrf = await alice.csrf();
  return [
    ['GET /', 200, await send(server, '/')],
    ['GET /login', 200, await anonymous.request('/login')],
    ['POST /login (success)', 303, await new Browser(server).login(ALICE)],
    [
      'POST /login (wrong password)',
      401,
      await new Browser(server).login({ email: ALICE.email, password: 'wrong password' }),
    ],
    ['GET /account (visitor)', 303, await send(server, '/account')],
    ['GET /account (signed in)', 200, await alice.request('/account')],
    ['GET /api/me (signed in)', 200, await alice.me()],
    ['GET /api/me (visitor)', 401, await send(server, '/api/me')],
    ['POST /logout without _csrf', 403, await alice.request('/logout', { form: {} })],
    ['GET /nowhere', 404, await send(server, '/nowhere')],
    [
      'POST /login with a malformed JSON body',
      400,
      await send(server, '/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{',
      }),
    ],
    ['POST /logout', 303, await alice.request('/logout', { form: { _csrf: csrf } })],
  ];
}

describe('[SM-59] Strict-Transport-Security', () => {
  let https: DemoServer;
  let http: DemoServer;

  beforeAll(async () => {
    [https, http] = await Promise.all([startDemo({ https: true }), startDemo()]);
  });
  afterAll(async () => {
    await Promise.all([https.close(), http.close()]);
  });

  it('[SM-59] every response over HTTPS (a trusted proxy with X-Forwarded-Proto: https) carries HSTS for a year, subdomains included', async () => {
    for (const [label, status, result] of await everyKindOfResponse(https)) {
      expect(result.status, label).toBe(status);
      expect(result.headers.get('strict-transport-security'), label).toBe(HSTS);
    }
  });

  it('[SM-59] no response over plain http carries HSTS', async () => {
    for (const [label, status, result] of await everyKindOfResponse(http)) {
      expect(result.status, label).toBe(status);
      expect(result.headers.get('strict-transport-security'), label).toBeNull();
    }
  });

  it('[SM-59] X-Forwarded-Proto: https from an untrusted peer does not switch HSTS on', async () => {
    const result = await send(http, '/', { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(result.status).toBe(200);
    expect(result.headers.get('strict-transport-security')).toBeNull();
  });
});
