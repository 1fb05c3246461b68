/**
 * The Next.js example (examples/nextjs), driven as Next.js drives route handlers: each module's
 * GET or POST export called with a plain `Request`. Its keys, store path and origin come from
 * the environment, set before the modules load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { BROWSER_ACCEPT, cookiePair, CSRF_COOKIE, EXPIRED, ISSUED } from './web-helpers.js';

type Route = (request: Request) => Promise<Response>;
interface Routes {
  login: { GET: Route; POST: Route };
  account: { GET: Route };
  logout: { POST: Route };
}

const directory = mkdtempSync(join(tmpdir(), 'strongroom-nextjs-'));
let routes: Routes;

beforeAll(async () => {
  process.env.STRONGROOM_KEYS = `${TEST_KEY.id}:${TEST_KEY.secret}`;
  process.env.STRONGROOM_DB = join(directory, 'sessions.db');
  process.env.APP_ORIGIN = TEST_ORIGIN;
  routes = {
    login: await import('../../examples/nextjs/app/login/route.js'),
    account: await import('../../examples/nextjs/app/account/route.js'),
    logout: await import('../../examples/nextjs/app/logout/route.js'),
  };
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** A browser navigation or form post to the app, with the browser's headers. */
function navigate(path: string, cookie?: string, form?: Record<string, string>): Request {
  const headers: Record<string, string> = { Accept: BROWSER_ACCEPT };
  if (cookie !== undefined) headers.Cookie = cookie;
  if (form === undefined) return new Request(`${TEST_ORIGIN}${path}`, { headers });
  Object.assign(headers, { 'Sec-Fetch-Site': 'same-origin', Origin: TEST_ORIGIN });
  return new Request(`${TEST_ORIGIN}${path}`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form),
  });
}

/** The `_csrf` value of the page's hidden field. */
async function csrfFieldOf(response: Response): Promise<string> {
  const match = /name="_csrf" value="([^"]+)"/.exec(await response.text());
  expect(match, 'a _csrf hidden field').not.toBeNull();
  return match![1]!;
}

const ALICE = { email: 'alice@example.com', password: 'correct horse battery staple' };

describe('the Next.js App Router example', () => {
  it('[SM-16][SM-25][SM-36][SM-45][SM-48] signs in and out through the route handlers', async () => {
    const away = await routes.account.GET(navigate('/account'));
    expect([away.status, away.headers.get('location')]).toEqual([
      303,
      '/login?returnTo=%2Faccount',
    ]);
    const api = await routes.account.GET(
      new Request(`${TEST_ORIGIN}/account`, { headers: { Accept: 'application/json' } }),
    );
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: 'ERR_UNAUTHENTICATED' });

    const form = await routes.login.GET(navigate('/login'));
    expect(form.status).toBe(200);
    const pre = cookiePair(form, CSRF_COOKIE)!;
    const csrf = await csrfFieldOf(form);

    const forged = await routes.login.POST(navigate('/login', pre, ALICE));
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('This form has expired or was sent from another site.');
    const wrong = await routes.login.POST(
      navigate('/login', pre, { ...ALICE, password: 'wrong', _csrf: csrf }),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toEqual([]);

    const login = await routes.login.POST(navigate('/login', pre, { ...ALICE, _csrf: csrf }));
    expect([login.status, login.headers.get('location')]).toEqual([303, '/account']);
    const issued = login.headers.getSetCookie().find((header) => header.startsWith('__Host-sid='));
    expect(issued).toMatch(ISSUED);
    expect(login.headers.get('cache-control')).toBe('no-store');
    const cookie = cookiePair(login)!;

    const account = await routes.account.GET(navigate('/account', cookie));
    expect(account.status).toBe(200);
    const page = await account.clone().text();
    expect(page).toContain('Signed in as alice');
    expect(page).toContain('<form method="post" action="/logout">');
    const signOut = await csrfFieldOf(account);

    const logout = await routes.logout.POST(navigate('/logout', cookie, { _csrf: signOut }));
    expect([logout.status, logout.headers.get('location')]).toEqual([303, '/login']);
    expect(logout.headers.getSetCookie()).toContain(EXPIRED);

    const again = await routes.account.GET(navigate('/account', cookie));
    expect([again.status, again.headers.get('location')]).toEqual([
      303,
      '/login?returnTo=%2Faccount',
    ]);
  });
});
