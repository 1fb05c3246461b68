import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import {
  createSessionManager,
  SessionEndedError,
  type SessionManagerOptions,
} from '../../src/index.js';
import {
  honoSessions,
  type HonoSessionsOptions,
  type SessionEnv,
  type SessionVariables,
} from '../../src/adapters/hono.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { switchableStore } from '../support/store-wrappers.js';
import { serveHono } from './hono-helpers.js';
import {
  BROWSER_ACCEPT,
  cookiePair,
  CSRF_COOKIE,
  EXPIRED,
  ISSUED,
  type WebServer,
} from './web-helpers.js';

interface Data {
  note: string;
}

const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin', Origin: TEST_ORIGIN };
const HTTPS = { 'X-Forwarded-Proto': 'https' };

/** An app with the middleware on everything under /app, and a sibling route without it. */
function createApp(
  managerOptions: Partial<SessionManagerOptions> = {},
  options: HonoSessionsOptions = {},
) {
  const store = switchableStore(createMemoryStore());
  const manager = createSessionManager<Data>({
    store,
    keys: [TEST_KEY],
    csrf: { protection: 'off' },
    ...managerOptions,
  });
  const auth = honoSessions(manager, options);
  const app = new Hono<SessionEnv<Data>>();
  app.get('/public', (c) => c.text('public'));
  app.use('/app/*', auth.middleware);
  app.get('/app/whoami', (c) => {
    const note: string | undefined = c.var.session.get('note');
    // @ts-expect-error: the session is typed by the manager's data, which has no `theme`.
    c.var.session.get('theme');
    return c.json({ user: c.var.session.userId, note: note ?? null });
  });
  app.get('/app/csrf', (c) => c.json({ csrf: c.var.session.csrfToken() }));
  app.post('/app/login', async (c) => {
    await c.var.session.login('alice');
    setCookie(c, 'theme', 'dark', { path: '/' });
    return c.json({ user: c.var.session.userId, sessions: await c.var.session.listSessions() });
  });
  app.post('/app/login-redirect', async (c) => {
    await c.var.session.login('alice');
    return Response.redirect(`${TEST_ORIGIN}/app/account`, 303);
  });
  app.post('/app/logout', async (c) => {
    await c.var.session.logout();
    return c.redirect('/login', 303);
  });
  app.post('/app/note', async (c) => {
    const form = await c.req.parseBody();
    const upload = form.upload;
    await c.var.session.set('note', typeof form.note === 'string' ? form.note : '');
    return c.json({ note: form.note, upload: upload instanceof File ? await upload.text() : null });
  });
  app.get('/app/vary', (c) => {
    c.header('Vary', 'Accept-Encoding');
    return c.text('ok');
  });
  app.get('/app/account', auth.requireUser(), (c) => c.json({ user: c.var.session.userId }));
  app.post('/app/ended', async (c) => {
    await c.var.session.login('alice');
    throw new SessionEndedError();
  });
  app.get('/app/write', async (c) => {
    await c.var.session.set('note', 'x');
    return c.text('written');
  });
  app.get('/app/teapot', () => {
    throw new HTTPException(418, { message: 'teapot' });
  });
  app.post('/app/proxy', async (c) => {
    await c.var.session.login('alice');
    c.header('Vary', 'Accept-Encoding');
    return fetch(c.req.header('X-Upstream')!); // a fetch() result: immutable headers
  });
  app.get('/guarded-without-middleware', auth.requireUser(), (c) => c.text('never'));
  return { store, manager, auth, app };
}

describe('Hono adapter on @hono/node-server', () => {
  const { app, store } = createApp({}, { trustProxy: true });
  let server: WebServer;
  beforeAll(async () => {
    server = await serveHono(app);
  });
  afterAll(() => server.close());

  const send = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      redirect: 'manual',
      ...init,
      headers: { ...HTTPS, ...init.headers },
    });

  async function login(): Promise<string> {
    const response = await send('/app/login', { method: 'POST' });
    expect(response.status).toBe(200);
    return cookiePair(response)!;
  }

  it("[SM-06][SM-07][SM-08][SM-16] login sets the __Host- cookie once, next to the app's own", async () => {
    const response = await send('/app/login', { method: 'POST' });
    expect(response.headers.getSetCookie()).toEqual([
      'theme=dark; Path=/',
      expect.stringMatching(ISSUED),
    ]);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('vary')).toBe('Origin, Sec-Fetch-Site, Cookie');
  });

  it('takes the IP from the node-server socket when no trusted proxy header names one', async () => {
    const response = await send('/app/login', { method: 'POST' });
    const { sessions } = (await response.json()) as {
      sessions: { ip: string; current: boolean }[];
    };
    expect(sessions.find((session) => session.current)).toMatchObject({ ip: '127.0.0.1' });
  });

  it('[SM-25] logout with c.redirect() expires the cookie', async () => {
    const cookie = await login();
    const response = await send('/app/logout', { method: 'POST', headers: { Cookie: cookie } });
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie()).toEqual([EXPIRED]);
    const me = await send('/app/whoami', { headers: { Cookie: cookie } });
    expect(await me.json()).toEqual({ user: null, note: null });
  });

  it('[SM-16] an immutable Response.redirect() from a handler gets the new cookie', async () => {
    const response = await send('/app/login-redirect', { method: 'POST' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`${TEST_ORIGIN}/app/account`);
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(ISSUED)]);
    const me = await send('/app/whoami', { headers: { Cookie: cookiePair(response)! } });
    expect(await me.json()).toMatchObject({ user: 'alice' });
  });

  it('[SM-16] an immutable fetch() result is copied whole, each header once', async () => {
    const upstream = await serveHono(
      new Hono().get('/', (c) => c.text('made', 201, { Vary: 'Cookie', 'X-Up': '1' })),
    );
    try {
      const response = await send('/app/proxy', {
        method: 'POST',
        headers: { 'X-Upstream': upstream.url },
      });
      expect([response.status, await response.text()]).toEqual([201, 'made']);
      expect(response.headers.get('x-up')).toBe('1');
      expect(response.headers.get('vary')).toBe('Origin, Sec-Fetch-Site, Cookie');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(ISSUED)]);
    } finally {
      await upstream.close();
    }
  });

  it("[SM-47] merges Vary with the route's own, each entry once", async () => {
    const response = await send('/app/vary');
    expect(response.headers.get('vary')).toBe('Cookie, Accept-Encoding');
  });

  it('leaves routes without the middleware alone', async () => {
    const response = await send('/public', { headers: { Cookie: `__Host-sid=${'x'.repeat(43)}` } });
    expect(await response.text()).toBe('public');
    expect(response.headers.get('vary')).toBeNull();
    expect(response.headers.get('cache-control')).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('answers a Strongroom error thrown in a handler itself, with the cookie set before it', async () => {
    const response = await send('/app/ended', { method: 'POST' });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toMatchObject({ error: 'ERR_SESSION_ENDED' });
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(ISSUED)]);
  });

  it('[SM-57] a store outage is a 503 with Retry-After and no Set-Cookie, at load and in a handler', async () => {
    const cookie = await login();
    store.down = true;
    try {
      for (const path of ['/app/whoami', '/app/write']) {
        const response = await send(path, {
          headers: path === '/app/write' ? {} : { Cookie: cookie },
        });
        expect(response.status, path).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(await response.json()).toMatchObject({ error: 'ERR_STORE_UNAVAILABLE' });
      }
    } finally {
      store.down = false;
    }
    const me = await send('/app/whoami', { headers: { Cookie: cookie } });
    expect(await me.json()).toMatchObject({ user: 'alice' });
  });

  it('leaves other errors to Hono', async () => {
    const response = await send('/app/teapot');
    expect(response.status).toBe(418);
    expect(await response.text()).toBe('teapot');
  });

  it('[SM-48] requireUser: 303 for browsers, 401 JSON for API clients; a missing middleware is a 500', async () => {
    const browser = await send('/app/account', { headers: { Accept: BROWSER_ACCEPT } });
    expect(browser.status).toBe(303);
    expect(browser.headers.get('location')).toBe('/login?returnTo=%2Fapp%2Faccount');
    expect(browser.headers.get('vary')).toBe('Cookie, Accept');
    expect(browser.headers.get('cache-control')).toBe('no-store');
    const api = await send('/app/account');
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: 'ERR_UNAUTHENTICATED' });
    const cookie = await login();
    const signedIn = await send('/app/account', { headers: { Cookie: cookie } });
    expect(await signedIn.json()).toEqual({ user: 'alice' });
    expect((await send('/guarded-without-middleware')).status).toBe(500);
  });
});

describe('Hono adapter: CSRF and the body', () => {
  const { app } = createApp({ csrf: { origins: [TEST_ORIGIN] } });
  let server: WebServer;
  beforeAll(async () => {
    server = await serveHono(app);
  });
  afterAll(() => server.close());

  it('[SM-36] reads _csrf from a multipart body; c.req.parseBody() still reads the file', async () => {
    // app.request() with an https URL: the scheme alone makes it HTTPS.
    const page = await app.request(`${TEST_ORIGIN}/app/csrf`);
    const { csrf } = (await page.json()) as { csrf: string };
    const body = new FormData();
    body.set('note', 'hi');
    body.set('_csrf', csrf);
    body.set('upload', new File(['file body'], 'a.txt'));
    const response = await app.request(`${TEST_ORIGIN}/app/note`, {
      method: 'POST',
      headers: { ...SAME_ORIGIN, Cookie: cookiePair(page, CSRF_COOKIE)! },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ note: 'hi', upload: 'file body' });
  });

  it('[SM-39] a token-less form post is a 403 from the middleware, with Vary', async () => {
    const response = await app.request(`${TEST_ORIGIN}/app/note`, {
      method: 'POST',
      headers: { ...SAME_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'note=x',
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'ERR_CSRF', reason: 'token-missing' });
    expect(response.headers.get('vary')).toBe('Origin, Sec-Fetch-Site, Cookie');
  });

  it('[SM-44][H-19] ignores X-Forwarded-Proto without trustProxy, on the node server and in app.request()', async () => {
    const viaServer = await fetch(`${server.url}/app/csrf`, { headers: HTTPS });
    expect(viaServer.status).toBe(403);
    expect(await viaServer.json()).toMatchObject({ error: 'ERR_INSECURE_TRANSPORT' });
    const inProcess = await app.request('http://app.test/app/csrf', { headers: HTTPS });
    expect(inProcess.status).toBe(403);
  });
});

describe('honoSessions options', () => {
  it("errors: 'negotiate' answers a browser with a page", async () => {
    const { app } = createApp({}, { errors: 'negotiate' });
    const response = await app.request(`${TEST_ORIGIN}/app/ended`, {
      method: 'POST',
      headers: { Accept: BROWSER_ACCEPT },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('vary')).toBe('Origin, Sec-Fetch-Site, Cookie, Accept');
  });

  it('takes a connection function over the default', async () => {
    const { app } = createApp({}, { connection: () => ({ secure: true, ip: '198.51.100.4' }) });
    const response = await app.request('http://app.test/app/login', { method: 'POST' });
    const { sessions } = (await response.json()) as { sessions: { ip: string }[] };
    expect(sessions).toEqual([expect.objectContaining({ ip: '198.51.100.4' })]);
  });

  it('types: mounts on untyped apps and on apps with their own bindings and variables', async () => {
    const { auth } = createApp();
    const plain = new Hono();
    plain.use('/app/*', auth.middleware);
    interface Own {
      Bindings: { GREETING: string };
      Variables: SessionVariables<Data> & { requestId: string };
    }
    const app = new Hono<Own>();
    app.use(auth.middleware);
    app.use(async (c, next) => {
      c.set('requestId', 'r1');
      await next();
    });
    app.get('/', (c) => c.text(`${c.env.GREETING} ${c.var.requestId} ${c.var.session.userId}`));
    const response = await app.request(`${TEST_ORIGIN}/`, {}, { GREETING: 'hi' });
    expect(await response.text()).toBe('hi r1 null');
  });

  it('refuses options that are not what they document', () => {
    const { manager } = createApp();
    expect(() => honoSessions(manager, { formBodyLimit: -1 })).toThrow(/honoSessions\(\)/);
    expect(() =>
      honoSessions(manager, { connection: 'x' as unknown as () => { secure: boolean } }),
    ).toThrow(/connection must be a function/);
  });
});
