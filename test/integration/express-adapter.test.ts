import type { AddressInfo } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express4 from 'express4';
import express5 from 'express';
import {
  createSessionManager,
  type SessionManagerOptions,
  type SessionStore,
} from '../../src/index.js';
import { expressSessions } from '../../src/adapters/express.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY } from '../support/harness.js';
import { switchableStore } from '../support/store-wrappers.js';

type Express = typeof express5;

function buildApp(
  express: Express,
  store: SessionStore,
  options: Partial<SessionManagerOptions> = {},
) {
  const manager = createSessionManager<{ note: string }>({
    store,
    keys: [TEST_KEY],
    csrf: { protection: 'off' },
    ...options,
  });
  const auth = expressSessions(manager);
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(auth.middleware);
  // Express 4 does not forward rejected promises; this wrapper works on both.
  const handle =
    (
      fn: (req: express5.Request, res: express5.Response) => Promise<void>,
    ): express5.RequestHandler =>
    (req, res, next) => {
      fn(req, res).catch(next);
    };
  app.get('/me', (req, res) => {
    const session = auth.session(req);
    if (session.userId === null) res.status(401).json({ error: 'unauthenticated' });
    else res.json({ user: session.userId, note: session.get('note') ?? null });
  });
  app.post(
    '/login',
    handle(async (req, res) => {
      res.cookie('theme', 'dark');
      await auth.session(req).login('alice');
      res.sendStatus(204);
    }),
  );
  app.post(
    '/login/:form',
    handle(async (req, res) => {
      const respond = HEADER_WRITES[req.params.form as string];
      if (respond === undefined) {
        res.sendStatus(404);
        return;
      }
      await auth.session(req).login('alice');
      respond(res);
    }),
  );
  app.post(
    '/logout/:form',
    handle(async (req, res) => {
      await auth.session(req).logout();
      HEADER_WRITES[req.params.form as string]!(res);
    }),
  );
  app.post(
    '/note',
    handle(async (req, res) => {
      await auth.session(req).set('note', 'hello');
      res.sendStatus(204);
    }),
  );
  app.post(
    '/logout',
    handle(async (req, res) => {
      await auth.session(req).logout();
      res.sendStatus(204);
    }),
  );
  app.get('/public', (_req, res) => {
    res.send('ok');
  });
  app.use(auth.errorHandler);
  return app;
}

/**
 * Ways an app writes its response head after the session set its cookie. Node lets each of
 * them replace the Set-Cookie header the adapter had set (all but the last two).
 */
const HEADER_WRITES: Record<string, (res: express5.Response) => void> = {
  object: (res) => {
    res.writeHead(200, { 'Set-Cookie': 'theme=dark; Path=/', 'Content-Type': 'text/plain' });
    res.end('ok');
  },
  'lower-case key, several cookies': (res) => {
    res.writeHead(200, { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] });
    res.end();
  },
  'reason and object': (res) => {
    res.writeHead(200, 'Fine', { 'Set-Cookie': 'theme=dark; Path=/' });
    res.end();
  },
  'flat array': (res) => {
    res.writeHead(200, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1; Path=/']);
    res.end('ok');
  },
  'flat array, two Set-Cookie entries': (res) => {
    res.writeHead(200, 'Fine', ['Set-Cookie', 'a=1; Path=/', 'Set-Cookie', 'b=2; Path=/']);
    res.end();
  },
  'a forged session cookie': (res) => {
    res.writeHead(200, {
      'Set-Cookie': ['__Host-sid=forged; Path=/; Secure', 'sid=forged', 'theme=dark; Path=/'],
    });
    res.end();
  },
  'the adapter cookie copied back': (res) => {
    res.writeHead(200, { 'Set-Cookie': [...headerList(res), 'theme=dark; Path=/'] });
    res.end();
  },
  setHeader: (res) => {
    res.setHeader('Set-Cookie', 'theme=dark; Path=/');
    res.end();
  },
  'status only': (res) => {
    res.writeHead(200);
    res.end();
  },
};

/** Set-Cookie values each form above leaves besides the session cookie. */
const APP_COOKIES: Record<string, string[]> = {
  object: ['theme=dark; Path=/'],
  'lower-case key, several cookies': ['a=1; Path=/', 'b=2; Path=/'],
  'reason and object': ['theme=dark; Path=/'],
  'flat array': ['a=1; Path=/'],
  'flat array, two Set-Cookie entries': ['a=1; Path=/', 'b=2; Path=/'],
  'a forged session cookie': ['sid=forged', 'theme=dark; Path=/'],
  'the adapter cookie copied back': ['theme=dark; Path=/'],
  setHeader: ['theme=dark; Path=/'],
  'status only': [],
};

function headerList(res: express5.Response): string[] {
  const value = res.getHeader('Set-Cookie');
  return value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
}

/** A request with a path sent byte for byte (fetch would resolve `..` first). */
function rawPost(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(app: ReturnType<Express>): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    });
  });
}

const HTTPS = { 'X-Forwarded-Proto': 'https' };

describe.each([
  ['Express 4', express4],
  ['Express 5', express5],
])('%s adapter', (_name, express) => {
  const store = switchableStore(createMemoryStore());
  let server: Server;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await listen(buildApp(express, store)));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function login(): Promise<string> {
    const response = await fetch(`${url}/login`, { method: 'POST', headers: HTTPS });
    expect(response.status).toBe(204);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-sid='))!;
    return cookie.split(';')[0]!;
  }

  it('[SM-06][SM-07][SM-08] issues a __Host-, Secure, HttpOnly, SameSite=Lax cookie over (trusted) HTTPS and keeps other cookies', async () => {
    const response = await fetch(`${url}/login`, { method: 'POST', headers: HTTPS });
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    expect(cookies).toContainEqual(expect.stringMatching(/^theme=dark; Path=\//));
    expect(cookies).toContainEqual(
      expect.stringMatching(
        /^__Host-sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
      ),
    );
  });

  it.each(Object.keys(HEADER_WRITES))(
    '[SM-16] the new session cookie survives an app that writes its headers with %s',
    async (form) => {
      const response = await fetch(`${url}/login/${encodeURIComponent(form)}`, {
        method: 'POST',
        headers: HTTPS,
      });
      expect(response.status).toBe(200);
      const cookies = response.headers.getSetCookie();
      const ours = cookies.filter((c) => c.startsWith('__Host-sid='));
      expect(ours).toEqual([
        expect.stringMatching(
          /^__Host-sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
        ),
      ]);
      expect(cookies.filter((c) => !c.startsWith('__Host-sid='))).toEqual(APP_COOKIES[form]);
      // The browser got the cookie of the session that now exists, not a dead one.
      const me = await fetch(`${url}/me`, {
        headers: { ...HTTPS, Cookie: ours[0]!.split(';')[0]! },
      });
      expect(await me.json()).toMatchObject({ user: 'alice' });
    },
  );

  it('[SM-25] the cookie deletion of a logout survives writeHead with its own Set-Cookie', async () => {
    const cookie = await login();
    const response = await fetch(`${url}/logout/object`, {
      method: 'POST',
      headers: { ...HTTPS, Cookie: cookie },
    });
    expect(response.headers.getSetCookie()).toEqual([
      'theme=dark; Path=/',
      '__Host-sid=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    ]);
  });

  it('[SM-48] signed-in responses and cookie-setting responses carry Cache-Control: no-store and Vary: Cookie', async () => {
    const login = await fetch(`${url}/login`, { method: 'POST', headers: HTTPS });
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.headers.get('vary')).toBe('Origin, Sec-Fetch-Site, Cookie');
    const cookie = login.headers
      .getSetCookie()
      .find((c) => c.startsWith('__Host-sid='))!
      .split(';')[0]!;
    const me = await fetch(`${url}/me`, { headers: { ...HTTPS, Cookie: cookie } });
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    expect(me.headers.get('vary')).toBe('Cookie');
    const anonymous = await fetch(`${url}/public`, { headers: HTTPS });
    expect(anonymous.headers.get('cache-control')).toBeNull();
  });

  it('[SM-06] plain HTTP never gets a session cookie: login answers 403 with a clear code', async () => {
    const response = await fetch(`${url}/login`, { method: 'POST' });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'ERR_INSECURE_TRANSPORT' });
    expect(response.headers.getSetCookie().filter((c) => c.includes('sid'))).toEqual([]);
  });

  it('[SM-44][H-19] X-Forwarded-Proto from an untrusted hop is ignored', async () => {
    const app = buildApp(express, createMemoryStore());
    app.set('trust proxy', false);
    const { server: untrusted, url: untrustedUrl } = await listen(app);
    try {
      const response = await fetch(`${untrustedUrl}/login`, { method: 'POST', headers: HTTPS });
      expect(response.status).toBe(403);
    } finally {
      untrusted.close();
    }
  });

  it('reads the session back, and logout ends it', async () => {
    const cookie = await login();
    await fetch(`${url}/note`, { method: 'POST', headers: { ...HTTPS, Cookie: cookie } });
    const me = await fetch(`${url}/me`, { headers: { ...HTTPS, Cookie: cookie } });
    expect(await me.json()).toEqual({ user: 'alice', note: 'hello' });
    const logout = await fetch(`${url}/logout`, {
      method: 'POST',
      headers: { ...HTTPS, Cookie: cookie },
    });
    expect(logout.headers.getSetCookie()).toEqual([
      '__Host-sid=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    ]);
    expect((await fetch(`${url}/me`, { headers: { ...HTTPS, Cookie: cookie } })).status).toBe(401);
  });

  it('[SM-57][H-29] a store outage fails closed with 503, never 500 or anonymous, and recovers', async () => {
    const cookie = await login();
    store.down = true;
    try {
      for (const [path, method] of [
        ['/me', 'GET'],
        ['/logout', 'POST'],
        ['/login', 'POST'],
      ] as const) {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: { ...HTTPS, Cookie: cookie },
        });
        expect(response.status, path).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(await response.json()).toEqual({
          error: 'ERR_STORE_UNAVAILABLE',
          message: 'Session store unavailable during load',
        });
      }
    } finally {
      store.down = false;
    }
    const me = await fetch(`${url}/me`, { headers: { ...HTTPS, Cookie: cookie } });
    expect(await me.json()).toMatchObject({ user: 'alice' });
  });

  it('[SM-31] a write after a concurrent logout answers 401 and recreates nothing', async () => {
    const cookie = await login();
    const app = express();
    const manager = createSessionManager({ store, keys: [TEST_KEY], csrf: { protection: 'off' } });
    const auth = expressSessions(manager);
    app.set('trust proxy', 'loopback');
    app.use(auth.middleware);
    app.post('/slow', (req, res, next) => {
      const session = auth.session(req);
      manager
        .revokeSession(session.id!)
        .then(() => session.set('note', 'late'))
        .then(() => res.sendStatus(204), next);
    });
    app.use(auth.errorHandler);
    const { server: slowServer, url: slowUrl } = await listen(app);
    try {
      const response = await fetch(`${slowUrl}/slow`, {
        method: 'POST',
        headers: { ...HTTPS, Cookie: cookie },
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'ERR_SESSION_ENDED' });
      expect((await fetch(`${url}/me`, { headers: { ...HTTPS, Cookie: cookie } })).status).toBe(
        401,
      );
    } finally {
      slowServer.close();
    }
  });

  it('throws a clear error when the middleware is missing', () => {
    const auth = expressSessions(
      createSessionManager({ store, keys: [TEST_KEY], csrf: { protection: 'off' } }),
    );
    expect(() => auth.session({} as express5.Request)).toThrow(/mount the Strongroom middleware/);
  });
});

describe.each([
  ['Express 4', express4],
  ['Express 5', express5],
])('%s adapter with CSRF protection', (_name, express) => {
  let server: Server;
  let url: string;
  const writes: string[] = [];

  beforeAll(async () => {
    const manager = createSessionManager<{ note: string }>({
      store: createMemoryStore(),
      keys: [TEST_KEY],
      csrf: { origins: ['https://app.test'] },
    });
    manager.on('*', (event) => writes.push(event.type));
    const exempt = ['/hooks/payment', '/admin/hooks/signed'];
    const auth = expressSessions(manager, { csrfExemptPaths: exempt });
    const app = express();
    app.set('trust proxy', 'loopback');
    // The same manager, with the middleware inside a router mounted at /admin.
    const admin = express.Router();
    admin.use(express.urlencoded({ extended: false }), auth.middleware);
    for (const hook of ['/hooks/payment', '/hooks/signed']) {
      admin.post(hook, (_req, res) => {
        res.sendStatus(204);
      });
    }
    admin.use(auth.errorHandler);
    app.use('/admin', admin);
    app.use(express.urlencoded({ extended: false }), express.json(), auth.middleware);
    app.get('/form', (req, res) => {
      res.json({ csrf: auth.session(req).csrfToken() });
    });
    app.post('/login', (req, res, next) => {
      auth
        .session(req)
        .login('alice')
        .then(() => res.json({ csrf: auth.session(req).csrfToken() }), next);
    });
    app.post('/note', (req, res, next) => {
      auth
        .session(req)
        .set('note', 'changed')
        .then(() => res.sendStatus(204), next);
    });
    app.post('/hooks/payment', (_req, res) => {
      res.sendStatus(204);
    });
    app.use(auth.errorHandler);
    ({ server, url } = await listen(app));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const form = await fetch(`${url}/form`, { headers: HTTPS });
    const pre = form.headers.getSetCookie()[0]!.split(';')[0]!;
    const { csrf: preToken } = (await form.json()) as { csrf: string };
    const login = await fetch(`${url}/login`, {
      method: 'POST',
      headers: {
        ...HTTPS,
        Cookie: pre,
        'Sec-Fetch-Site': 'same-origin',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ _csrf: preToken }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .find((c) => c.startsWith('__Host-sid='))!
      .split(';')[0]!;
    return { cookie, csrf: ((await login.json()) as { csrf: string }).csrf };
  }

  it('[SM-35][SM-47] a token-less POST is 403 with a reason; Vary names Origin and Sec-Fetch-Site once', async () => {
    const { cookie } = await signIn();
    const response = await fetch(`${url}/note`, {
      method: 'POST',
      headers: { ...HTTPS, Cookie: cookie },
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'ERR_CSRF', reason: 'token-missing' });
    expect(response.headers.get('vary')).toBe('Origin, Sec-Fetch-Site, Cookie');
  });

  it('[SM-36] the token works from a form field, from X-CSRF-Token, and from a JSON body', async () => {
    const { cookie, csrf } = await signIn();
    const headers = { ...HTTPS, Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' };
    const form = await fetch(`${url}/note`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${csrf}`,
    });
    expect(form.status).toBe(204);
    const header = await fetch(`${url}/note`, {
      method: 'POST',
      headers: { ...headers, 'X-CSRF-Token': csrf },
    });
    expect(header.status).toBe(204);
    const json = await fetch(`${url}/note`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ _csrf: csrf }),
    });
    expect(json.status).toBe(204);
  });

  it('[SM-39][H-15] duplicated fields, non-string JSON and a header/body mismatch are 403, never 500', async () => {
    const { cookie, csrf } = await signIn();
    const headers = { ...HTTPS, Cookie: cookie };
    const form = { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' };
    const json = { ...headers, 'Content-Type': 'application/json' };
    const cases: [Record<string, string>, string][] = [
      [form, `_csrf=${csrf}&_csrf=${csrf}`],
      [json, '{"_csrf":123}'],
      [json, '{"_csrf":["a"]}'],
      [json, '{"_csrf":null}'],
      [{ ...form, 'X-CSRF-Token': 'A'.repeat(86) }, `_csrf=${csrf}`],
      [form, '_csrf=%E0%A4%A'],
    ];
    for (const [caseHeaders, body] of cases) {
      const response = await fetch(`${url}/note`, { method: 'POST', headers: caseHeaders, body });
      expect(response.status, body).toBeGreaterThanOrEqual(400);
      expect(response.status, body).toBeLessThan(500);
    }
  });

  it('[SM-46][H-21] a cross-origin text/plain JSON body is rejected', async () => {
    const { cookie } = await signIn();
    const response = await fetch(`${url}/note`, {
      method: 'POST',
      headers: {
        ...HTTPS,
        Cookie: cookie,
        Origin: 'https://evil.test',
        'Content-Type': 'text/plain',
      },
      body: '{"note":"pwned"}',
    });
    expect(response.status).toBe(403);
  });

  it('[SM-35] an exempt path matches the full request path: /admin/hooks/payment is not /hooks/payment', async () => {
    const crossSite = { ...HTTPS, 'Sec-Fetch-Site': 'cross-site' };
    // Mounted at /admin: only the exact full path listed is exempt.
    const mountedHook = await fetch(`${url}/admin/hooks/payment`, {
      method: 'POST',
      headers: crossSite,
    });
    expect(mountedHook.status).toBe(403);
    expect(await mountedHook.json()).toMatchObject({ error: 'ERR_CSRF' });
    const listed = await fetch(`${url}/admin/hooks/signed`, { method: 'POST', headers: crossSite });
    expect(listed.status).toBe(204);
    const withQuery = await fetch(`${url}/admin/hooks/signed?attempt=2`, {
      method: 'POST',
      headers: crossSite,
    });
    expect(withQuery.status).toBe(204);
  });

  it.each([
    '/hooks/payment/',
    '//hooks/payment',
    '/hooks/%70ayment',
    '/HOOKS/payment',
    '/hooks/x/../payment',
    '/hooks/payment/../note',
    '/hooks/./payment',
    '/admin/hooks/signed/',
    '/admin//hooks/signed',
    '/admin/hooks/%73igned',
    '/admin/hooks/x/../signed',
    '/admin/hooks/signed/../../note',
    '/ADMIN/hooks/signed',
    '/other/../admin/hooks/signed',
  ])('[SM-35] %s is not exempt (nothing is decoded or normalised)', async (path) => {
    const response = await rawPost(url, path, { ...HTTPS, 'Sec-Fetch-Site': 'cross-site' });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'ERR_CSRF' });
  });

  it('[SM-35] an absolute-form request target is never exempt', async () => {
    const response = await rawPost(url, `${url}/hooks/payment`, {
      ...HTTPS,
      'Sec-Fetch-Site': 'cross-site',
    });
    expect(response.status).toBe(403);
  });

  it('exempt paths (webhooks) are not checked, and only the exact path is exempt', async () => {
    const hook = await fetch(`${url}/hooks/payment`, {
      method: 'POST',
      headers: { 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(hook.status).toBe(204);
    const sneaky = await fetch(`${url}/hooks/payment/`, {
      method: 'POST',
      headers: { ...HTTPS, 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(sneaky.status).toBe(403);
  });
});
