import type { Server } from 'node:http';
import type { RequestHandler } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/index.js';
import { expressSessions, safeReturnPath } from '../../src/adapters/express.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY } from '../support/harness.js';
import {
  BROWSER_ACCEPT,
  close,
  EXPRESS_VERSIONS,
  handle,
  HTTPS,
  listen,
  rawRequest,
  sessionCookie,
} from './express-helpers.js';

describe('safeReturnPath', () => {
  it.each([
    ['/account', '/account'],
    ['/account?tab=keys&x=1', '/account?tab=keys&x=1'],
    ['/a/b/../c', '/a/c'],
    ['/caf\u00e9', '/caf%C3%A9'],
    ['/', '/'],
  ])('keeps the same-site path %s', (value, expected) => {
    expect(safeReturnPath(value)).toBe(expected);
  });

  it.each([
    'https://evil.example/',
    'http:/evil.example',
    'javascript:alert(1)',
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/ /evil.example',
    '/..//evil.example',
    '/a\\..\\..\\/evil.example',
    'account',
    '',
    `/${'a'.repeat(2048)}`,
  ])('[CWE-601] refuses %j: it could lead off-site', (value) => {
    expect(safeReturnPath(value)).toBeNull();
  });

  it.each([undefined, null, 42, ['/a'], { path: '/a' }])('refuses the non-string %j', (value) => {
    expect(safeReturnPath(value)).toBeNull();
  });
});

describe.each(EXPRESS_VERSIONS)('%s requireUser', (_name, express) => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const manager = createSessionManager({
      store: createMemoryStore(),
      keys: [TEST_KEY],
      csrf: { protection: 'off' },
    });
    const auth = expressSessions(manager);
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(auth.middleware);
    app.post(
      '/login',
      handle(async (req, res) => {
        await auth.session(req).login('alice');
        res.sendStatus(204);
      }),
    );
    const ok: RequestHandler = (req, res) => {
      res.json({ user: auth.session(req).userId });
    };
    app.get('/account', auth.requireUser(), ok);
    app.post('/account', auth.requireUser(), ok);
    app.get('/custom', auth.requireUser({ loginPath: '/signin?via=guard' }), ok);
    app.get('/quiet', auth.requireUser({ returnTo: 'omit' }), ok);
    const admin = express.Router();
    admin.use(auth.requireUser());
    admin.get('/users', ok);
    app.use('/admin', admin);
    // Everything below is guarded, whatever the path looks like.
    app.use(auth.requireUser());
    app.use(auth.errorHandler);
    ({ server, url } = await listen(app));
  });
  afterAll(() => close(server));

  async function signIn(): Promise<string> {
    const response = await fetch(`${url}/login`, { method: 'POST', headers: HTTPS });
    return sessionCookie(response)!;
  }

  it('lets a signed-in user through', async () => {
    const cookie = await signIn();
    for (const path of ['/account', '/custom', '/admin/users']) {
      const response = await fetch(`${url}${path}`, {
        headers: { ...HTTPS, Cookie: cookie, Accept: BROWSER_ACCEPT },
      });
      expect(response.status, path).toBe(200);
      expect(await response.json()).toEqual({ user: 'alice' });
    }
  });

  it('[SM-48] sends a browser to the login page with 303 and the path it asked for, uncached', async () => {
    const response = await fetch(`${url}/account?tab=keys&x=1`, {
      headers: { ...HTTPS, Accept: BROWSER_ACCEPT },
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(
      `/login?returnTo=${encodeURIComponent('/account?tab=keys&x=1')}`,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('vary')).toBe('Cookie, Accept');
  });

  it('answers fetch, API clients and requests without Accept with 401 JSON ERR_UNAUTHENTICATED', async () => {
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
      const response = await fetch(`${url}/account`, {
        headers: { ...HTTPS, ...(accept !== undefined && { Accept: accept }) },
        redirect: 'manual',
      });
      expect(response.status, accept).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('vary')).toBe('Cookie, Accept');
      expect(await response.json()).toEqual({
        error: 'ERR_UNAUTHENTICATED',
        message: 'Sign in to continue',
      });
    }
  });

  it('keeps the mount prefix in returnTo', async () => {
    const response = await fetch(`${url}/admin/users`, {
      headers: { ...HTTPS, Accept: BROWSER_ACCEPT },
      redirect: 'manual',
    });
    expect(response.headers.get('location')).toBe('/login?returnTo=%2Fadmin%2Fusers');
  });

  it('appends returnTo to a login path that has a query, and omits it when asked', async () => {
    const headers = { ...HTTPS, Accept: BROWSER_ACCEPT };
    const custom = await fetch(`${url}/custom`, { headers, redirect: 'manual' });
    expect(custom.headers.get('location')).toBe('/signin?via=guard&returnTo=%2Fcustom');
    const quiet = await fetch(`${url}/quiet`, { headers, redirect: 'manual' });
    expect(quiet.status).toBe(303);
    expect(quiet.headers.get('location')).toBe('/login');
  });

  it('sends an unsigned-in form post to the login page without returnTo', async () => {
    const response = await fetch(`${url}/account`, {
      method: 'POST',
      headers: { ...HTTPS, Accept: BROWSER_ACCEPT },
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login');
  });

  it.each([
    ['an absolute-form target', 'http://evil.example/account'],
    ['a scheme-relative path', '//evil.example/account'],
    ['a backslash path', '/\\evil.example/account'],
  ])('[CWE-601] never puts %s into returnTo (open redirect)', async (_label, target) => {
    const response = await rawRequest(url, 'GET', target, { ...HTTPS, Accept: BROWSER_ACCEPT });
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/login');
  });

  it('refuses a loginPath that is not a path on this site, and an unknown returnTo', () => {
    const auth = expressSessions(
      createSessionManager({
        store: createMemoryStore(),
        keys: [TEST_KEY],
        csrf: { protection: 'off' },
      }),
    );
    for (const loginPath of ['https://evil.example/login', '//evil.example', 'login', '']) {
      expect(() => auth.requireUser({ loginPath }), loginPath).toThrow(/loginPath must be a path/);
    }
    expect(() => auth.requireUser({ returnTo: 'always' as 'query' })).toThrow(/returnTo must be/);
  });

  it('passes a missing middleware on to the error handler', async () => {
    const auth = expressSessions(
      createSessionManager({
        store: createMemoryStore(),
        keys: [TEST_KEY],
        csrf: { protection: 'off' },
      }),
    );
    const app = express();
    app.get('/account', auth.requireUser(), (_req, res) => {
      res.sendStatus(200);
    });
    app.use(auth.errorHandler);
    const { server: bare, url: bareUrl } = await listen(app);
    try {
      const response = await fetch(`${bareUrl}/account`);
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ error: 'ERR_INVALID_ARGUMENT' });
    } finally {
      await close(bare);
    }
  });
});
