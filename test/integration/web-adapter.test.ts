import { describe, expect, it } from 'vitest';
import {
  createSessionManager,
  SessionEndedError,
  type Session,
  type SessionManagerOptions,
} from '../../src/index.js';
import { webSessions, type WebSessionsOptions } from '../../src/adapters/web.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { switchableStore } from '../support/store-wrappers.js';
import { captureWarnings } from '../support/warnings.js';
import {
  BROWSER_ACCEPT,
  cookiePair,
  CSRF_COOKIE,
  EXPIRED,
  ISSUED,
  ourCookies,
  serveWeb,
  SID,
} from './web-helpers.js';

interface Data {
  note: string;
}

/** The messages of the process warnings emitted with `code` in this test. */
const warnings = captureWarnings();

const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin', Origin: TEST_ORIGIN };
const FORM = { ...SAME_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' };

/** A request to the app at `TEST_ORIGIN`, or to `base` (an http:// one, say). */
function request(path: string, init: RequestInit = {}, base = TEST_ORIGIN): Request {
  return new Request(`${base}${path}`, {
    ...(init.body !== undefined && { duplex: 'half' }),
    ...init,
  });
}

/** An app: the manager, its adapter, and the handlers most tests share. */
function createApp(
  managerOptions: Partial<SessionManagerOptions> = {},
  options: WebSessionsOptions = {},
) {
  const store = switchableStore(createMemoryStore());
  const manager = createSessionManager<Data>({
    store,
    keys: [TEST_KEY],
    csrf: { origins: [TEST_ORIGIN] },
    ...managerOptions,
  });
  const auth = webSessions(manager, options);
  const whoami = auth.handler((_request, session) =>
    Response.json({ user: session.userId, note: session.get('note') ?? null }),
  );
  const form = auth.handler((_request, session) => Response.json({ csrf: session.csrfToken() }));
  const login = auth.handler(async (_request, session) => {
    await session.login('alice');
    return Response.json({ user: session.userId, csrf: session.csrfToken() });
  });
  /** A browser signs in: the login form's token first (SM-45), then the login. */
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const page = await form(request('/login'));
    const { csrf } = (await page.json()) as { csrf: string };
    const headers = {
      ...SAME_ORIGIN,
      Cookie: cookiePair(page, CSRF_COOKIE)!,
      'X-CSRF-Token': csrf,
    };
    const response = await login(request('/login', { method: 'POST', headers }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { csrf: string };
    return { cookie: cookiePair(response)!, csrf: body.csrf };
  }
  return { store, manager, auth, whoami, login, signIn };
}

describe('web adapter: cookies and response headers', () => {
  it('[SM-06][SM-07][SM-08][SM-10][SM-25] login sets a __Host-, Secure, HttpOnly, SameSite=Lax browser-session cookie; logout expires it', async () => {
    const { auth, signIn, whoami } = createApp();
    const { cookie, csrf } = await signIn();
    expect(`${cookie}; Path=/; HttpOnly; SameSite=Lax; Secure`).toMatch(ISSUED);
    const logout = auth.handler(async (_request, session) => {
      await session.logout();
      return new Response(null, { status: 204 });
    });
    const headers = { ...SAME_ORIGIN, Cookie: cookie, 'X-CSRF-Token': csrf };
    const response = await logout(request('/logout', { method: 'POST', headers }));
    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie()).toEqual([EXPIRED]);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const after = await whoami(request('/whoami', { headers: { Cookie: cookie } }));
    expect(await after.json()).toEqual({ user: null, note: null });
  });

  it('[SM-16] an immutable Response.redirect() is copied and gets the new session cookie', async () => {
    const { auth, whoami } = createApp({ csrf: { protection: 'off' } });
    const login = auth.handler(async (_request, session) => {
      await session.login('alice');
      return Response.redirect(`${TEST_ORIGIN}/account`, 303);
    });
    const response = await login(request('/login', { method: 'POST' }));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`${TEST_ORIGIN}/account`);
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(ISSUED)]);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('vary')).toBe('Origin, Sec-Fetch-Site, Cookie');
    const me = await whoami(request('/whoami', { headers: { Cookie: cookiePair(response)! } }));
    expect(await me.json()).toMatchObject({ user: 'alice' });
  });

  it('[SM-16] a fetch() result keeps its status, status text, headers and body', async () => {
    const upstream = await serveWeb(
      () => new Response('made', { status: 201, statusText: 'Made', headers: { 'X-Up': '1' } }),
    );
    try {
      const { auth } = createApp({ csrf: { protection: 'off' } });
      const proxy = auth.handler(async (_request, session) => {
        await session.login('alice');
        return fetch(upstream.url);
      });
      const response = await proxy(request('/proxy', { method: 'POST' }));
      expect([response.status, response.statusText]).toEqual([201, 'Made']);
      expect(response.headers.get('x-up')).toBe('1');
      expect(cookiePair(response)).toMatch(/^__Host-sid=/);
      expect(await response.text()).toBe('made');
    } finally {
      await upstream.close();
    }
  });

  it('changes a mutable response in place and leaves Response.error() alone', async () => {
    const { auth } = createApp();
    const loaded = await auth.load(request('/'));
    const response = new Response('ok');
    expect(loaded.apply(response)).toBe(response);
    expect(response.headers.get('vary')).toBe('Cookie');
    const failed = Response.error();
    expect(loaded.apply(failed)).toBe(failed);
    expect(failed.headers.get('vary')).toBeNull();
  });

  it("[SM-16] keeps the app's own cookies and drops a forged session cookie", async () => {
    const { auth } = createApp({ csrf: { protection: 'off' } });
    const login = auth.handler(async (_request, session) => {
      await session.login('alice');
      const headers = new Headers();
      for (const cookie of ['theme=dark; Path=/', `${SID}=forged; Path=/; Secure`, 'sid=x'])
        headers.append('Set-Cookie', cookie);
      return new Response('ok', { headers });
    });
    const cookies = (await login(request('/login', { method: 'POST' }))).headers.getSetCookie();
    expect(cookies).toEqual(['theme=dark; Path=/', 'sid=x', expect.stringMatching(ISSUED)]);
  });

  it("[SM-47] merges Vary with the app's, each entry once", async () => {
    const { auth } = createApp({ csrf: { protection: 'off' } });
    const vary = (value: string) =>
      auth.handler(() => new Response('ok', { headers: { Vary: value } }));
    const post = await vary('Accept-Encoding, cookie')(request('/', { method: 'POST' }));
    expect(post.headers.get('vary')).toBe('Origin, Sec-Fetch-Site, Cookie, Accept-Encoding');
    const get = await vary('Sec-Fetch-Site,Accept')(request('/'));
    expect(get.headers.get('vary')).toBe('Cookie, Sec-Fetch-Site, Accept');
  });

  it('[SM-48] signed-in and cookie-setting responses carry no-store; anonymous ones Vary: Cookie only', async () => {
    const { signIn, whoami } = createApp();
    const anonymous = await whoami(request('/whoami'));
    expect(anonymous.headers.get('cache-control')).toBeNull();
    expect(anonymous.headers.get('vary')).toBe('Cookie');
    expect(anonymous.headers.getSetCookie()).toEqual([]);
    const { cookie } = await signIn();
    const me = await whoami(request('/whoami', { headers: { Cookie: cookie } }));
    expect(me.headers.get('cache-control')).toBe('no-store');
    expect(me.headers.getSetCookie()).toEqual([]);
  });

  it('refuses a session change after the response was completed', async () => {
    const { auth } = createApp();
    const loaded = await auth.load(request('/'));
    loaded.apply(new Response('ok'));
    expect(() => loaded.session.csrfToken()).toThrow(/after its response was completed/);
  });
});

describe('web adapter: the _csrf form field', () => {
  /** A handler that echoes what the app itself reads from the body after the load. */
  function echoApp(options: WebSessionsOptions = {}) {
    const app = createApp({}, options);
    const echo = app.auth.handler(async (incoming: Request, session: Session<Data>) => {
      const body = await incoming.formData();
      const upload = body.get('upload');
      const note = body.get('note');
      await session.set('note', typeof note === 'string' ? note : '');
      return Response.json({
        note: body.get('note'),
        upload: upload instanceof File ? await upload.text() : null,
      });
    });
    return { ...app, echo };
  }

  it('[SM-36] reads _csrf from an urlencoded body; the app still reads the whole body', async () => {
    const { echo, signIn } = echoApp();
    const { cookie, csrf } = await signIn();
    const body = new URLSearchParams({ note: 'hi', _csrf: csrf });
    const response = await echo(
      request('/note', { method: 'POST', headers: { ...FORM, Cookie: cookie }, body }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ note: 'hi', upload: null });
  });

  it('[SM-36] reads _csrf from a multipart body with a file; the app still reads the file', async () => {
    const { echo, signIn } = echoApp();
    const { cookie, csrf } = await signIn();
    const body = new FormData();
    body.set('note', 'with file');
    body.set('_csrf', csrf);
    body.set('upload', new File(['x'.repeat(50_000)], 'a.txt'));
    const response = await echo(
      request('/note', { method: 'POST', headers: { ...SAME_ORIGIN, Cookie: cookie }, body }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ note: 'with file', upload: 'x'.repeat(50_000) });
  });

  it('[SM-36] reads a streamed body that has no Content-Length', async () => {
    const { echo, signIn } = echoApp();
    const { cookie, csrf } = await signIn();
    const response = await echo(
      request('/note', {
        method: 'POST',
        headers: { ...FORM, Cookie: cookie },
        body: streamOf(['note=str', `eamed&_csrf=${csrf}`]),
      }),
    );
    expect(await response.json()).toEqual({ note: 'streamed', upload: null });
  });

  it.each([
    ['declared', (body: string) => ({ body, headers: { 'Content-Length': `${body.length}` } })],
    [
      'streamed without Content-Length',
      (body: string) => ({ body: streamOf([body, body]), headers: {} }),
    ],
  ])(
    '[SM-39] a form body over formBodyLimit (%s) is a 403 that says to use X-CSRF-Token, never a 500',
    async (_label, bodyOf) => {
      const { echo, signIn } = echoApp({ formBodyLimit: 100 });
      const { cookie, csrf } = await signIn();
      const body = `note=${'n'.repeat(100)}&_csrf=${csrf}`;
      const headers = { ...FORM, Cookie: cookie };
      const sent = bodyOf(body);
      const refused = await echo(
        request('/note', {
          method: 'POST',
          body: sent.body,
          headers: { ...headers, ...sent.headers },
        }),
      );
      expect(refused.status).toBe(403);
      const answer = (await refused.json()) as { reason: string; message: string };
      expect(answer.reason).toBe('token-missing');
      expect(answer.message).toMatch(/larger than formBodyLimit \(100 bytes\)/);
      expect(answer.message).toMatch(/X-CSRF-Token header for large uploads/);
      // The way for large uploads: the header, and the app reads the body itself.
      const allowed = await echo(
        request('/note', { method: 'POST', headers: { ...headers, 'X-CSRF-Token': csrf }, body }),
      );
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toMatchObject({ note: 'n'.repeat(100) });
    },
  );

  it('leaves the whole of an oversized body to the app', async () => {
    const { auth } = createApp({ csrf: { protection: 'off' } }, { formBodyLimit: 10 });
    const body = ['a=1&', 'b'.repeat(100), '&c=3'];
    const incoming = request('/upload', { method: 'POST', headers: FORM, body: streamOf(body) });
    await auth.load(incoming);
    expect(await incoming.text()).toBe(body.join(''));
  });

  it.each([
    ['a multipart body without its boundary', 'multipart/form-data', '--x\r\nnonsense'],
    ['a truncated multipart body', 'multipart/form-data; boundary=x', '--x\r\nContent-Dis'],
    ['an urlencoded body with no token', 'application/x-www-form-urlencoded', '%%%&&=='],
  ])('[SM-39] %s is a 403 token-missing, never a 500', async (_label, type, body) => {
    const { echo, signIn } = echoApp();
    const { cookie } = await signIn();
    const headers = { ...SAME_ORIGIN, Cookie: cookie, 'Content-Type': type };
    const response = await echo(request('/note', { method: 'POST', headers, body }));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'ERR_CSRF', reason: 'token-missing' });
  });

  it('[SM-39] a repeated _csrf field is a 403, even when both copies are right', async () => {
    const { echo, signIn } = echoApp();
    const { cookie, csrf } = await signIn();
    const body = `_csrf=${csrf}&_csrf=${csrf}`;
    const response = await echo(
      request('/note', { method: 'POST', headers: { ...FORM, Cookie: cookie }, body }),
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ reason: 'token-malformed' });
  });

  it('says so, and warns once, when the app consumed the body before the load', async () => {
    const { auth, signIn } = createApp();
    const { cookie, csrf } = await signIn();
    for (let attempt = 0; attempt < 2; attempt++) {
      const incoming = request('/note', {
        method: 'POST',
        headers: { ...FORM, Cookie: cookie },
        body: `_csrf=${csrf}`,
      });
      await incoming.text();
      const error: unknown = await auth.load(incoming).catch((caught: unknown) => caught);
      const response = auth.errorResponse(error, incoming)!;
      expect(response.status).toBe(403);
      const answer = (await response.json()) as { reason: string; message: string };
      expect(answer.reason).toBe('token-missing');
      expect(answer.message).toMatch(/before anything reads the request body/);
    }
    expect(warnings('STRONGROOM_BODY_NOT_PARSED')).toHaveLength(1);
  });

  it('[SM-35] exempts exactly the listed paths, as request.url spells them', async () => {
    const { auth } = createApp({}, { csrfExemptPaths: ['/hooks/payment'] });
    const hook = auth.handler(() => new Response(null, { status: 204 }));
    const crossSite = { 'Sec-Fetch-Site': 'cross-site' };
    for (const path of ['/hooks/payment', '/hooks/payment?attempt=2']) {
      const response = await hook(request(path, { method: 'POST', headers: crossSite }));
      expect(response.status, path).toBe(204);
    }
    for (const path of [
      '/hooks/payment/',
      '//hooks/payment',
      '/hooks/%70ayment',
      '/HOOKS/payment',
    ]) {
      const response = await hook(request(path, { method: 'POST', headers: crossSite }));
      expect(response.status, path).toBe(403);
    }
  });
});

/** A request body that arrives in pieces, with no Content-Length. */
function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe('web adapter: transport and proxies', () => {
  const HTTP = 'http://app.test';

  it('[SM-44][SM-06][H-19] X-Forwarded-Proto is ignored without trustProxy: the plain-HTTP visitor stays anonymous; one warning', async () => {
    const { auth, login } = createApp({ csrf: { protection: 'off' } });
    const headers = { 'X-Forwarded-Proto': 'https' };
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await login(request('/login', { method: 'POST', headers }, HTTP));
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: 'ERR_INSECURE_TRANSPORT' });
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    const loaded = await auth.load(request('/whoami', { headers }, HTTP));
    expect(loaded.session.userId).toBeNull();
    expect(warnings('STRONGROOM_INSECURE_TRANSPORT')).toEqual([
      expect.stringMatching(/X-Forwarded-Proto: https", but webSessions\(\) does not trust/),
    ]);
  });

  it('[SM-44] trustProxy: true lets X-Forwarded-Proto decide and takes the leftmost X-Forwarded-For', async () => {
    const { auth } = createApp({ csrf: { protection: 'off' } }, { trustProxy: true });
    const login = auth.handler(async (_request, session) => {
      await session.login('alice');
      return Response.json(await session.listSessions());
    });
    const headers = {
      'X-Forwarded-Proto': 'https, http',
      'X-Forwarded-For': '203.0.113.9, 10.0.0.1',
    };
    const response = await login(request('/login', { method: 'POST', headers }, HTTP));
    expect(cookiePair(response)).toMatch(/^__Host-sid=/);
    expect(await response.json()).toEqual([expect.objectContaining({ ip: '203.0.113.9' })]);
    const downgraded = await login(
      request('/login', { method: 'POST', headers: { 'X-Forwarded-Proto': 'http' } }),
    );
    expect(downgraded.status).toBe(403);
  });

  it('takes the connection option, and a connection passed to load() before it', async () => {
    const { auth } = createApp(
      { csrf: { protection: 'off' } },
      { connection: () => ({ secure: true, ip: '198.51.100.1' }) },
    );
    const login = auth.handler(async (_request, session) => {
      await session.login('alice');
      return Response.json(await session.listSessions());
    });
    const response = await login(request('/login', { method: 'POST' }, HTTP));
    expect(await response.json()).toEqual([expect.objectContaining({ ip: '198.51.100.1' })]);
    const loaded = await auth.load(request('/login', { method: 'POST' }), { secure: false });
    await expect(loaded.session.login('alice')).rejects.toMatchObject({
      code: 'ERR_INSECURE_TRANSPORT',
    });
  });
});

describe('web adapter: errors', () => {
  it('[SM-57] a store outage is a 503 with Retry-After and no Set-Cookie; nothing is lost', async () => {
    const { store, signIn, whoami, login } = createApp();
    const { cookie } = await signIn();
    store.down = true;
    for (const response of [
      await whoami(request('/whoami', { headers: { Cookie: cookie } })),
      await login(
        request('/login', { method: 'POST', headers: { ...SAME_ORIGIN, Cookie: cookie } }),
      ),
    ]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await response.json()).toMatchObject({ error: 'ERR_STORE_UNAVAILABLE' });
    }
    store.down = false;
    const me = await whoami(request('/whoami', { headers: { Cookie: cookie } }));
    expect(await me.json()).toMatchObject({ user: 'alice' });
  });

  it("errors: 'negotiate' answers a browser with a page and fetch() with JSON, Vary: Cookie, Accept", async () => {
    const { store, signIn, whoami } = createApp({}, { errors: 'negotiate' });
    const { cookie } = await signIn();
    store.down = true;
    const page = await whoami(
      request('/whoami', { headers: { Cookie: cookie, Accept: BROWSER_ACCEPT } }),
    );
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('vary')).toBe('Cookie, Accept');
    expect(await page.text()).toContain('<h1>503 Service Unavailable</h1>');
    const json = await whoami(request('/whoami', { headers: { Cookie: cookie } }));
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json.headers.get('x-content-type-options')).toBe('nosniff');
    expect(json.headers.get('vary')).toBe('Cookie, Accept');
  });

  it('answers a Strongroom error thrown by the handler, with the cookies set before it', async () => {
    const { auth } = createApp({ csrf: { protection: 'off' } });
    const failing = auth.handler(async (_request, session) => {
      await session.login('alice');
      throw new SessionEndedError();
    });
    const response = await failing(request('/login', { method: 'POST' }));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'ERR_SESSION_ENDED' });
    expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(ISSUED)]);
  });

  it('rethrows other errors for the host to answer', async () => {
    const { auth } = createApp();
    const broken = auth.handler(() => {
      throw new RangeError('bug');
    });
    await expect(broken(request('/'))).rejects.toThrow(RangeError);
    expect(auth.errorResponse(new Error('bug'), request('/'))).toBeNull();
  });

  it('refuses options that are not what they document', () => {
    const { manager } = createApp();
    const bad: WebSessionsOptions[] = [
      { errors: 'html' as 'json' },
      { formBodyLimit: -1 },
      { formBodyLimit: 1.5 },
      { trustProxy: 'yes' as unknown as boolean },
      { csrfExemptPaths: '/hooks' as unknown as string[] },
      { connection: 'socket' as unknown as () => { secure: boolean } },
    ];
    for (const options of bad)
      expect(() => webSessions(manager, options)).toThrow(/webSessions\(\)/);
  });
});

describe('web adapter: handler', () => {
  it('[SM-48] requireUser sends a browser to the login page (303, returnTo) and answers API clients 401, uncached', async () => {
    const { auth, signIn } = createApp();
    const account = auth.handler((_request, session) => Response.json({ user: session.userId }), {
      requireUser: true,
    });
    const browser = await account(
      request('/account?tab=keys', { headers: { Accept: BROWSER_ACCEPT } }),
    );
    expect(browser.status).toBe(303);
    expect(browser.headers.get('location')).toBe(
      `/login?returnTo=${encodeURIComponent('/account?tab=keys')}`,
    );
    expect(browser.headers.get('cache-control')).toBe('no-store');
    expect(browser.headers.get('vary')).toBe('Cookie, Accept');
    const api = await account(request('/account', { headers: { Accept: 'application/json' } }));
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({
      error: 'ERR_UNAUTHENTICATED',
      message: 'Sign in to continue',
    });
    const { cookie } = await signIn();
    const signedIn = await account(request('/account', { headers: { Cookie: cookie } }));
    expect(await signedIn.json()).toEqual({ user: 'alice' });
  });

  it('[CWE-601] requireUser takes a loginPath and returnTo option, and never returns off-site', async () => {
    const { auth } = createApp();
    const headers = { Accept: BROWSER_ACCEPT };
    const quiet = auth.handler(() => new Response('never'), {
      requireUser: { loginPath: '/signin?via=guard', returnTo: 'omit' },
    });
    expect((await quiet(request('/x', { headers }))).headers.get('location')).toBe(
      '/signin?via=guard',
    );
    const scheme = auth.unauthenticated(request('//evil.example/account', { headers }));
    expect(scheme.headers.get('location')).toBe('/login');
    const post = auth.unauthenticated(request('/account', { method: 'POST', headers }));
    expect(post.headers.get('location')).toBe('/login');
    expect(() =>
      auth.handler(() => new Response(), { requireUser: { loginPath: 'https://evil.example' } }),
    ).toThrow(/loginPath must be a path/);
  });

  it('passes the extra arguments of the host (Next.js { params }) through', async () => {
    const { auth } = createApp();
    const order = auth.handler(
      async (_request, session, context: { params: Promise<{ id: string }> }) =>
        Response.json({ id: (await context.params).id, user: session.userId }),
    );
    const response = await order(request('/orders/7'), { params: Promise.resolve({ id: '7' }) });
    expect(await response.json()).toEqual({ id: '7', user: null });
  });
});

describe('web adapter: hostile cookies', () => {
  it('[SM-04][SM-13][SM-14] never cause a 5xx and never switch users', async () => {
    const { signIn, whoami } = createApp();
    const alice = (await signIn()).cookie;
    const token = alice.slice(`${SID}=`.length);
    const hostile = [
      `${SID}=${'x'.repeat(5000)}`,
      `${SID}=${token}; ${SID}=${'z'.repeat(43)}`,
      `__host-sid=${token}; __HOST-SID=${token}`,
      `${SID}="${token}"`,
      `${SID}=\u00ff\u00fe\u0080abc; ;;; =x; ${SID}; ${SID}==`,
      `$Version=1; ${SID}=${token}; $Path=/, ${SID}=x`,
      Array.from({ length: 500 }, (_, i) => `c${i}=v${i}`).join('; '),
    ];
    for (const cookie of hostile) {
      const response = await whoami(request('/whoami', { headers: { Cookie: cookie } }));
      expect(response.status, cookie.slice(0, 40)).toBeLessThan(500);
    }
    const me = await whoami(request('/whoami', { headers: { Cookie: alice } }));
    expect(await me.json()).toMatchObject({ user: 'alice' });
    expect(ourCookies(me)).toEqual([]);
  });
});
