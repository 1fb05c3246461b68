import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { InvalidArgumentError, type SessionManagerOptions } from '../../src/index.js';
import { fastifySessions, type FastifySessionsOptions } from '../../src/adapters/fastify.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { sendRawRequest } from '../support/raw-http.js';
import { switchableStore } from '../support/store-wrappers.js';
import {
  captureWarnings,
  createApp,
  createManager,
  FORM,
  HTTPS,
  listen,
  SAME_ORIGIN,
  sessionCookie,
  setCookies,
} from './fastify-helpers.js';

const SESSION_COOKIE = /^__Host-sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/;
const CLEARED =
  '__Host-sid=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';

/**
 * Ways an app sets its own Set-Cookie headers around a login: before, after, replacing ours,
 * forging our cookie, copying ours back. Each value: what the app does, and the app cookies
 * that must reach the browser besides the real session cookie.
 */
const APP_COOKIE_WRITES: Record<
  string,
  [before: (reply: FastifyReply) => void, after: (reply: FastifyReply) => void, kept: string[]]
> = {
  'reply.header before the login': [
    (reply) => reply.header('set-cookie', 'theme=dark; Path=/'),
    () => undefined,
    ['theme=dark; Path=/'],
  ],
  'reply.header after the login': [
    () => undefined,
    (reply) => reply.header('set-cookie', ['a=1; Path=/', 'b=2; Path=/']),
    ['a=1; Path=/', 'b=2; Path=/'],
  ],
  'removeHeader, then its own list': [
    () => undefined,
    (reply) => reply.removeHeader('set-cookie').header('set-cookie', ['theme=dark; Path=/']),
    ['theme=dark; Path=/'],
  ],
  'a forged session cookie': [
    () => undefined,
    (reply) => reply.headers({ 'Set-Cookie': ['__Host-sid=forged; Path=/; Secure', 'sid=forged'] }),
    ['sid=forged'],
  ],
  'the adapter cookie copied back': [
    () => undefined,
    (reply) => reply.header('set-cookie', reply.getHeader('set-cookie')),
    [],
  ],
  'reply.raw.setHeader before the login': [
    (reply) => reply.raw.setHeader('Set-Cookie', 'theme=dark; Path=/'),
    () => undefined,
    ['theme=dark; Path=/'],
  ],
};

async function buildApp(
  options: {
    manager?: Partial<SessionManagerOptions>;
    sessions?: FastifySessionsOptions;
    trustProxy?: boolean;
  } = {},
) {
  const manager = createManager(options.manager);
  const auth = fastifySessions(manager, options.sessions);
  const app = createApp(options.trustProxy === false ? { trustProxy: false } : {});
  await app.register(formbody);
  await app.register(auth.plugin);
  app.get('/me', async (request, reply) => {
    const session = auth.session(request);
    expectTypeOf(session.get('note')).toEqualTypeOf<string | undefined>();
    // @ts-expect-error: typed by the manager's data, which has no such key
    session.get('missing');
    if (session.userId === null) return reply.code(401).send({ user: null });
    return { user: session.userId, note: session.get('note') ?? null };
  });
  app.post('/login', async (request, reply) => {
    reply.header('set-cookie', 'theme=dark; Path=/');
    await auth.session(request).login('alice');
    return reply.code(204).send();
  });
  app.post<{ Params: { form: string } }>('/login/:form', async (request, reply) => {
    const [before, after] = APP_COOKIE_WRITES[request.params.form]!;
    before(reply);
    await auth.session(request).login('alice');
    after(reply);
    return reply.code(204).send();
  });
  app.post('/note', async (request, reply) => {
    await auth.session(request).set('note', 'hello');
    return reply.code(204).send();
  });
  app.post('/logout', async (request, reply) => {
    await auth.session(request).logout();
    return reply.code(204).send();
  });
  app.get('/sessions', async (request) => {
    const [info] = await auth.session(request).listSessions();
    return { ip: info?.ip, userAgent: info?.userAgent };
  });
  app.get<{ Querystring: { vary?: string } }>('/public', async (request, reply) => {
    if (request.query.vary !== undefined) reply.header('vary', request.query.vary);
    return 'ok';
  });
  app.setErrorHandler(auth.errorHandler);
  return { app, auth, manager };
}

async function login(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/login', headers: HTTPS });
  expect(response.statusCode).toBe(204);
  return sessionCookie(response)!;
}

describe('Fastify adapter through app.inject()', () => {
  let app: FastifyInstance;
  beforeAll(async () => ({ app } = await buildApp()));
  afterAll(() => app.close());

  it('[SM-06][SM-07][SM-08][SM-09][SM-10] issues a __Host-, Secure, HttpOnly, SameSite=Lax browser-session cookie and keeps the app cookie', async () => {
    const response = await app.inject({ method: 'POST', url: '/login', headers: HTTPS });
    const cookies = setCookies(response);
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toBe('theme=dark; Path=/');
    expect(cookies[1]).toMatch(SESSION_COOKIE);
  });

  it('reads the typed session back, and logout deletes it and expires the cookie', async () => {
    const cookie = await login(app);
    await app.inject({ method: 'POST', url: '/note', headers: { ...HTTPS, cookie } });
    const me = await app.inject({ url: '/me', headers: { ...HTTPS, cookie } });
    expect(me.json()).toEqual({ user: 'alice', note: 'hello' });
    const logout = await app.inject({
      method: 'POST',
      url: '/logout',
      headers: { ...HTTPS, cookie },
    });
    expect(logout.statusCode).toBe(204);
    expect(setCookies(logout)).toEqual([CLEARED]);
    expect(logout.headers['content-type']).toBeUndefined();
    expect((await app.inject({ url: '/me', headers: { ...HTTPS, cookie } })).statusCode).toBe(401);
  });

  it.each(Object.keys(APP_COOKIE_WRITES))(
    '[SM-16] one real session cookie, whatever the app does with Set-Cookie: %s',
    async (form) => {
      const response = await app.inject({
        method: 'POST',
        url: `/login/${encodeURIComponent(form)}`,
        headers: HTTPS,
      });
      expect(response.statusCode).toBe(204);
      const cookies = setCookies(response);
      const ours = cookies.filter((line) => line.startsWith('__Host-sid='));
      expect(ours).toEqual([expect.stringMatching(SESSION_COOKIE)]);
      expect(cookies.filter((line) => !line.startsWith('__Host-sid='))).toEqual(
        APP_COOKIE_WRITES[form]![2],
      );
      const me = await app.inject({
        url: '/me',
        headers: { ...HTTPS, cookie: sessionCookie(response)! },
      });
      expect(me.json()).toMatchObject({ user: 'alice' });
    },
  );

  it('[SM-47][SM-48] signed-in and cookie-setting answers carry no-store; every answer Vary: Cookie', async () => {
    const signIn = await app.inject({ method: 'POST', url: '/login', headers: HTTPS });
    expect(signIn.headers['cache-control']).toBe('no-store');
    expect(signIn.headers.vary).toBe('Origin, Sec-Fetch-Site, Cookie');
    const me = await app.inject({
      url: '/me',
      headers: { ...HTTPS, cookie: sessionCookie(signIn)! },
    });
    expect(me.headers['cache-control']).toBe('no-store');
    expect(me.headers.vary).toBe('Cookie');
    const anonymous = await app.inject({ url: '/public', headers: HTTPS });
    expect(anonymous.headers['cache-control']).toBeUndefined();
    expect(anonymous.headers.vary).toBe('Cookie');
    expect(setCookies(anonymous)).toEqual([]);
  });

  it.each([
    ['Accept-Encoding', 'Accept-Encoding, Cookie'],
    ['cookie', 'cookie'],
    ['Accept, COOKIE', 'Accept, COOKIE'],
    ['*', '*'],
  ])('[SM-47] keeps Cookie in a Vary the app replaced with %j, named once', async (vary, sent) => {
    const response = await app.inject({
      url: `/public?vary=${encodeURIComponent(vary)}`,
      headers: HTTPS,
    });
    expect(response.headers.vary).toBe(sent);
  });

  it('[SM-04][SM-13][SM-14] hostile Cookie headers never cause a 5xx', async () => {
    const cookie = await login(app);
    const token = cookie.split('=')[1]!;
    const hostile: (string | string[])[] = [
      `__Host-sid=${'x'.repeat(5000)}`,
      [cookie, '__Host-sid=' + 'z'.repeat(43)],
      `__Host-sid="${token}"`,
      `__Host-sid=${token}; __Host-sid=${token}`,
      '__Host-sid=\u00ff\u00fe\u0080abc; ;;; =x; __Host-sid; __Host-sid==',
      Array.from({ length: 500 }, (_, i) => `c${i}=v${i}`).join('; '),
      `__proto__=x; constructor=y; __Host-sid=${token}`,
    ];
    for (const value of hostile) {
      const response = await app.inject({ url: '/me', headers: { ...HTTPS, cookie: value } });
      expect(response.statusCode, String(value)).toBeLessThan(500);
    }
  });
});

describe('Fastify adapter over a real socket', () => {
  const warnings = captureWarnings();

  it('[SM-57][H-29] a store outage fails closed with 503 and no Set-Cookie, and recovers', async () => {
    const store = switchableStore(createMemoryStore());
    const { app } = await buildApp({ manager: { store } });
    const url = await listen(app);
    try {
      const signIn = await fetch(`${url}/login`, { method: 'POST', headers: HTTPS });
      const cookie = sessionCookie(signIn)!;
      store.down = true;
      for (const [path, method] of [
        ['/me', 'GET'],
        ['/note', 'POST'],
        ['/logout', 'POST'],
        ['/login', 'POST'],
      ] as const) {
        const response = await fetch(`${url}${path}`, { method, headers: { ...HTTPS, cookie } });
        expect(response.status, path).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(response.headers.getSetCookie(), path).toEqual([]);
        expect(await response.json()).toEqual({
          error: 'ERR_STORE_UNAVAILABLE',
          message: 'Session store unavailable during load',
        });
      }
      store.down = false;
      const me = await fetch(`${url}/me`, { headers: { ...HTTPS, cookie } });
      expect(await me.json()).toEqual({ user: 'alice', note: null });
    } finally {
      await app.close();
    }
  });

  it("[SM-44][SM-59][H-19] without trustProxy, X-Forwarded-Proto is ignored: the visitor stays anonymous, and one warning names Fastify's trustProxy", async () => {
    const { app } = await buildApp({ trustProxy: false });
    const url = await listen(app);
    try {
      const signIn = await fetch(`${url}/login`, { method: 'POST', headers: HTTPS });
      expect(signIn.status).toBe(403);
      expect(await signIn.json()).toMatchObject({ error: 'ERR_INSECURE_TRANSPORT' });
      expect(signIn.headers.getSetCookie().filter((line) => line.includes('sid'))).toEqual([]);
      for (let i = 0; i < 2; i++) {
        const note = await fetch(`${url}/note`, { method: 'POST', headers: HTTPS });
        expect(note.status).toBe(403);
        expect(note.headers.getSetCookie()).toEqual([]);
      }
      const [message, ...more] = warnings('STRONGROOM_INSECURE_TRANSPORT');
      expect(more).toEqual([]);
      expect(message).toMatch(/plain HTTP while cookie\.secure is "always"/);
      expect(message).toMatch(/"X-Forwarded-Proto: https", but Fastify does not trust the proxy/);
      expect(message).toMatch(/set Fastify's trustProxy option/);
    } finally {
      await app.close();
    }
  });

  it('[SM-44][SM-59] with trustProxy, X-Forwarded-Proto: https from the proxy counts as HTTPS, and stays quiet', async () => {
    const { app } = await buildApp();
    const url = await listen(app);
    try {
      const signIn = await fetch(`${url}/login`, { method: 'POST', headers: HTTPS });
      expect(signIn.status).toBe(204);
      const me = await fetch(`${url}/me`, {
        headers: { ...HTTPS, cookie: sessionCookie(signIn)! },
      });
      expect(await me.json()).toMatchObject({ user: 'alice' });
      // Without the header, the same trusted hop is plain HTTP: no session.
      const plain = await fetch(`${url}/me`, { headers: { cookie: sessionCookie(signIn)! } });
      expect(plain.status).toBe(401);
      expect(warnings('STRONGROOM_INSECURE_TRANSPORT')).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it.each([
    [true, '203.0.113.9'],
    [false, '127.0.0.1'],
  ])(
    '[SM-55][SM-58] the client IP is request.ip: X-Forwarded-For counts only under trustProxy (%s)',
    async (trustProxy, ip) => {
      const { app } = await buildApp({
        trustProxy,
        manager: { cookie: { secure: 'allow-http-development' } },
      });
      const url = await listen(app);
      try {
        const headers = { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'Probe/1.0' };
        const signIn = await fetch(`${url}/login`, { method: 'POST', headers });
        const cookie = signIn.headers
          .getSetCookie()
          .find((line) => line.startsWith('sid='))!
          .split(';')[0]!;
        const sessions = await fetch(`${url}/sessions`, { headers: { ...headers, cookie } });
        expect(await sessions.json()).toEqual({ ip, userAgent: 'Probe/1.0' });
      } finally {
        await app.close();
      }
    },
  );

  it('[SM-04] hostile raw Cookie lines never cause a 5xx', async () => {
    const { app } = await buildApp();
    const url = await listen(app);
    try {
      for (const lines of [
        ['__Host-sid=a', '__Host-sid=b'],
        [`__Host-sid=${'A'.repeat(43)}\t`],
        ['__Host-sid=\u00ff\u00fe'],
      ]) {
        const response = await sendRawRequest(url, {
          method: 'GET',
          path: '/me',
          headers: [
            ['X-Forwarded-Proto', 'https'],
            ...lines.map((line) => ['Cookie', line] as const),
          ],
        });
        expect(response.status, lines.join(' | ')).toBeLessThan(500);
      }
    } finally {
      await app.close();
    }
  });
});

describe('Fastify adapter: the arrival', () => {
  it('[SM-20] is noted in onRequest, before the body is read: the grace window counts from it', async () => {
    const manager = createManager();
    const ages: (number | undefined)[] = [];
    const load = manager.load.bind(manager);
    manager.load = (request, sink) => {
      ages.push(request.ageMs);
      return load(request, sink);
    };
    const auth = fastifySessions(manager);
    const app = createApp();
    await app.register(auth.plugin);
    // A slow upload: the body takes a while to come in after the request line.
    app.addHook('preParsing', async () => {
      await new Promise((resolve) => setTimeout(resolve, 60));
    });
    app.post('/upload', async (_request, reply) => reply.code(204).send());
    const response = await app.inject({ method: 'POST', url: '/upload', headers: HTTPS });
    expect(response.statusCode).toBe(204);
    expect(ages).toEqual([expect.any(Number)]);
    expect(ages[0]).toBeGreaterThanOrEqual(50);
    await app.close();
  });
});

describe('Fastify adapter: a session change after the reply was sent', () => {
  it('throws InvalidArgumentError instead of losing the cookie', async () => {
    const auth = fastifySessions(createManager());
    const app = createApp();
    await app.register(auth.plugin);
    let late: unknown;
    app.post('/late', async (request, reply) => {
      await reply.send({ ok: true });
      late = await auth
        .session(request)
        .set('note', 'late')
        .catch((error: unknown) => error);
      return reply;
    });
    const response = await app.inject({ method: 'POST', url: '/late', headers: HTTPS });
    expect(response.json()).toEqual({ ok: true });
    expect(setCookies(response)).toEqual([]);
    expect(late).toBeInstanceOf(InvalidArgumentError);
    expect((late as Error).message).toMatch(/after the reply was sent/);
    await app.close();
  });

  it('throws in an onSend hook that runs after the plugin’s, which answers with the error', async () => {
    const auth = fastifySessions(createManager());
    const app = createApp();
    await app.register(auth.plugin);
    app.addHook('onSend', async (request: FastifyRequest) => {
      if (request.url === '/hooked') await auth.session(request).set('note', 'too late');
    });
    app.get('/hooked', () => ({ ok: true }));
    app.setErrorHandler(auth.errorHandler);
    const response = await app.inject({ url: '/hooked', headers: HTTPS });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ error: 'ERR_INVALID_ARGUMENT' });
    expect(setCookies(response)).toEqual([]);
    await app.close();
  });
});

describe('Fastify adapter: encapsulation', () => {
  let app: FastifyInstance;
  const probe = (auth: ReturnType<typeof fastifySessions>) => (request: FastifyRequest) => {
    try {
      return { user: auth.session(request).userId };
    } catch (error) {
      return { error: (error as Error).name, message: (error as Error).message };
    }
  };

  beforeAll(async () => {
    const auth = fastifySessions(createManager());
    app = createApp();
    await app.register(
      async (scope) => {
        await scope.register(auth.plugin);
        scope.post('/login', async (request, reply) => {
          await auth.session(request).login('alice');
          return reply.code(204).send();
        });
        scope.get('/me', probe(auth));
        await scope.register(
          (child, _options, done) => {
            child.get('/me', probe(auth));
            done();
          },
          { prefix: '/child' },
        );
      },
      { prefix: '/app' },
    );
    await app.register(
      (sibling, _options, done) => {
        sibling.get('/me', probe(auth));
        done();
      },
      { prefix: '/sibling' },
    );
    app.get('/root', probe(auth));
  });
  afterAll(() => app.close());

  it('covers the routes of the scope it is registered in and of its children', async () => {
    const signIn = await app.inject({ method: 'POST', url: '/app/login', headers: HTTPS });
    const cookie = sessionCookie(signIn)!;
    for (const url of ['/app/me', '/app/child/me']) {
      const response = await app.inject({ url, headers: { ...HTTPS, cookie } });
      expect(response.json(), url).toEqual({ user: 'alice' });
      expect(response.headers.vary, url).toBe('Cookie');
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
  });

  it('leaves sibling and parent scopes alone: no session, no Vary, no Set-Cookie', async () => {
    const signIn = await app.inject({ method: 'POST', url: '/app/login', headers: HTTPS });
    const cookie = sessionCookie(signIn)!;
    for (const url of ['/sibling/me', '/root']) {
      const response = await app.inject({ url, headers: { ...HTTPS, cookie } });
      const { error, message } = response.json<{ error: string; message: string }>();
      expect(error, url).toBe('InvalidArgumentError');
      expect(message).toMatch(/register auth\.plugin in this route's scope/);
      expect(response.headers.vary, url).toBeUndefined();
      expect(response.headers['cache-control'], url).toBeUndefined();
      expect(response.headers['set-cookie'], url).toBeUndefined();
    }
  });

  it('refuses to be registered twice in one scope chain', async () => {
    const auth = fastifySessions(createManager());
    const twice = createApp();
    await twice.register(auth.plugin);
    await expect(
      twice.register(async (child) => {
        await child.register(auth.plugin);
      }),
    ).rejects.toThrow(/already registered in this scope or a parent scope/);
    await twice.close().catch(() => undefined);
  });

  it('may be registered in two sibling scopes, each covering its own routes', async () => {
    const auth = fastifySessions(createManager());
    const siblings = createApp();
    for (const prefix of ['/one', '/two']) {
      await siblings.register(
        async (scope) => {
          await scope.register(auth.plugin);
          scope.get('/me', probe(auth));
        },
        { prefix },
      );
    }
    for (const url of ['/one/me', '/two/me']) {
      const response = await siblings.inject({ url, headers: HTTPS });
      expect([response.json(), response.headers.vary], url).toEqual([{ user: null }, 'Cookie']);
    }
    await siblings.close();
  });

  it('runs two managers side by side in one scope, each with its own cookie', async () => {
    const first = fastifySessions(createManager());
    const second = fastifySessions(createManager({ cookie: { name: 'admin' } }));
    const both = createApp();
    await both.register(first.plugin);
    await both.register(second.plugin);
    both.post('/login', async (request, reply) => {
      await first.session(request).login('alice');
      await second.session(request).login('root');
      return reply.code(204).send();
    });
    const response = await both.inject({ method: 'POST', url: '/login', headers: HTTPS });
    const names = setCookies(response).map((line) => line.split('=')[0]);
    expect(names.sort()).toEqual(['__Host-admin', '__Host-sid']);
    expect(response.headers.vary).toBe('Origin, Sec-Fetch-Site, Cookie');
    await both.close();
  });
});

describe('Fastify adapter with CSRF protection', () => {
  let app: FastifyInstance;
  const events: string[] = [];

  beforeAll(async () => {
    const manager = createManager({ csrf: { origins: ['https://app.test'] } });
    manager.on('*', (event) => events.push(event.type));
    const auth = fastifySessions(manager, {
      csrfExemptPaths: ['/hooks/payment', '/admin/hooks/signed'],
    });
    app = createApp();
    await app.register(formbody);
    await app.register(auth.plugin);
    // Before the awaited register below: Fastify gives routes the error handler set by then.
    app.setErrorHandler(auth.errorHandler);
    app.get('/form', (request) => ({ csrf: auth.session(request).csrfToken() }));
    app.post('/login', async (request) => {
      await auth.session(request).login('alice');
      return { csrf: auth.session(request).csrfToken() };
    });
    app.post('/note', async (request, reply) => {
      await auth.session(request).set('note', 'changed');
      return reply.code(204).send();
    });
    app.post('/hooks/payment', async (_request, reply) => reply.code(204).send());
    await app.register(
      (admin, _options, done) => {
        admin.post('/hooks/payment', async (_request, reply) => reply.code(204).send());
        admin.post('/hooks/signed', async (_request, reply) => reply.code(204).send());
        done();
      },
      { prefix: '/admin' },
    );
  });
  afterAll(() => app.close());

  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const form = await app.inject({ url: '/form', headers: HTTPS });
    const pre = setCookies(form)[0]!.split(';')[0]!;
    const login = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { ...SAME_ORIGIN, cookie: pre, 'content-type': FORM },
      payload: new URLSearchParams({ _csrf: form.json<{ csrf: string }>().csrf }).toString(),
    });
    expect(login.statusCode).toBe(200);
    return { cookie: sessionCookie(login)!, csrf: login.json<{ csrf: string }>().csrf };
  }

  it('[SM-36][SM-45] accepts the token from a _csrf field parsed by @fastify/formbody, from X-CSRF-Token and from JSON', async () => {
    const { cookie, csrf } = await signIn();
    const headers = { ...SAME_ORIGIN, cookie };
    for (const request of [
      { headers: { ...headers, 'content-type': FORM }, payload: `note=x&_csrf=${csrf}` },
      { headers: { ...headers, 'x-csrf-token': csrf } },
      { headers, payload: { _csrf: csrf } },
    ]) {
      const response = await app.inject({ method: 'POST', url: '/note', ...request });
      expect(response.statusCode).toBe(204);
    }
  });

  it('[SM-35][SM-47][SM-48] a token-less POST is 403 with a reason, uncached, changing nothing; Vary names Origin and Sec-Fetch-Site once', async () => {
    const { cookie } = await signIn();
    events.length = 0;
    const response = await app.inject({
      method: 'POST',
      url: '/note',
      headers: { ...SAME_ORIGIN, cookie },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ error: 'ERR_CSRF', reason: 'token-missing' });
    expect(response.headers.vary).toBe('Origin, Sec-Fetch-Site, Cookie');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(setCookies(response)).toEqual([]);
    expect(events).toEqual(['csrf.rejected']);
  });

  it('[SM-36] a token sent only as a cookie, or from a cross-site page, is refused', async () => {
    const { cookie, csrf } = await signIn();
    const asCookie = await app.inject({
      method: 'POST',
      url: '/note',
      headers: { ...SAME_ORIGIN, cookie: `${cookie}; _csrf=${csrf}` },
    });
    expect(asCookie.statusCode).toBe(403);
    const crossSite = await app.inject({
      method: 'POST',
      url: '/note',
      headers: { ...SAME_ORIGIN, cookie, 'sec-fetch-site': 'cross-site', 'x-csrf-token': csrf },
    });
    expect(crossSite.json()).toMatchObject({ error: 'ERR_CSRF', reason: 'cross-site' });
  });

  it('[SM-39][H-15] duplicated fields, non-string JSON and a header/body mismatch are 403, never 500', async () => {
    const { cookie, csrf } = await signIn();
    const form = { ...SAME_ORIGIN, cookie, 'content-type': FORM };
    const json = { ...SAME_ORIGIN, cookie, 'content-type': 'application/json' };
    for (const [headers, payload] of [
      [form, `_csrf=${csrf}&_csrf=${csrf}`],
      [json, '{"_csrf":123}'],
      [json, '{"_csrf":["a"]}'],
      [json, '{"_csrf":null}'],
      [{ ...form, 'x-csrf-token': 'A'.repeat(86) }, `_csrf=${csrf}`],
      [form, '_csrf=%E0%A4%A'],
    ] as const) {
      const response = await app.inject({ method: 'POST', url: '/note', headers, payload });
      expect(response.statusCode, payload).toBe(403);
    }
  });

  it('[SM-35] exempt paths match the full path exactly, plugin prefixes included, queries aside', async () => {
    const crossSite = { ...HTTPS, 'sec-fetch-site': 'cross-site' };
    const post = (url: string) => app.inject({ method: 'POST', url, headers: crossSite });
    expect((await post('/hooks/payment')).statusCode).toBe(204);
    expect((await post('/admin/hooks/signed')).statusCode).toBe(204);
    expect((await post('/admin/hooks/signed?attempt=2')).statusCode).toBe(204);
    const prefixed = await post('/admin/hooks/payment');
    expect(prefixed.statusCode).toBe(403);
    expect(prefixed.json()).toMatchObject({ error: 'ERR_CSRF' });
  });

  describe('over a real socket, with targets sent byte for byte', () => {
    let url: string;
    beforeAll(async () => {
      url = await listen(app);
    });

    it.each([
      '/hooks/payment/',
      '//hooks/payment',
      '/hooks/%70ayment',
      '/HOOKS/payment',
      '/hooks/x/../payment',
      '/hooks/./payment',
      '/admin/hooks/signed/',
      '/admin//hooks/signed',
      '/admin/hooks/%73igned',
      '/ADMIN/hooks/signed',
      '/other/../admin/hooks/signed',
    ])('[SM-35] %s is not exempt (nothing is decoded or normalised)', async (path) => {
      const response = await sendRawRequest(url, {
        method: 'POST',
        path,
        headers: [
          ['X-Forwarded-Proto', 'https'],
          ['Sec-Fetch-Site', 'cross-site'],
        ],
      });
      expect(response.status).toBe(403);
      expect(response.json).toMatchObject({ error: 'ERR_CSRF' });
    });

    it('[SM-35] an absolute-form request target is never exempt', async () => {
      const response = await sendRawRequest(url, {
        method: 'POST',
        path: `${url}/hooks/payment`,
        headers: [
          ['X-Forwarded-Proto', 'https'],
          ['Sec-Fetch-Site', 'cross-site'],
        ],
      });
      expect(response.status).not.toBe(204);
      expect(response.status).toBeLessThan(500);
    });
  });
});
