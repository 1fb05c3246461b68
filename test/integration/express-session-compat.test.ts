import { createRequire } from 'node:module';
import type { RequestHandler } from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  expressSession,
  type ExpressSessionMiddleware,
  type ExpressSessionOptions,
} from '../../src/adapters/express-session.js';
import type { SessionStore } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { spyStore, switchableStore } from '../support/store-wrappers.js';
import { Client, serve, SID, sessionSetCookie, type Served } from './express-session-helpers.js';
import { EXPRESS_VERSIONS, type Express } from './express-helpers.js';
import express5 from 'express';

declare module '../../src/adapters/express-session.js' {
  interface SessionData {
    views: number;
    user: string;
    notes: Record<string, string>;
    streamed: boolean;
  }
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

function compat(store: SessionStore, options: Partial<ExpressSessionOptions> = {}) {
  return expressSession({
    store,
    keys: [TEST_KEY],
    csrf: { origins: [TEST_ORIGIN] },
    userId: (data) => data.user as string | undefined,
    ...options,
  });
}

/** The patterns of express-session's README and of typical apps, written against its API. */
function buildApp(express: Express, session: ExpressSessionMiddleware) {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.urlencoded({ extended: false }), session);
  app.get('/csrf', (req, res) => {
    res.json({ token: req.csrfToken() });
  });
  app.get('/views', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ views: req.session.views });
  });
  app.get('/me', (req, res) => {
    res.json({
      user: req.session.user ?? null,
      id: req.session.id,
      sessionID: req.sessionID,
      maxAge: req.session.cookie.maxAge,
    });
  });
  app.post('/login', (req, res, next) => {
    req.session.regenerate((error) => {
      if (error) return next(error);
      const form = req.body as Record<string, string>;
      req.session.user = String(form.user);
      if (form.remember === 'yes') req.session.cookie.maxAge = WEEK_MS;
      req.session.save((saveError) => {
        if (saveError) return next(saveError);
        res.redirect(303, '/me');
      });
    });
  });
  app.post('/remember', (req, res) => {
    req.session.cookie.maxAge =
      (req.body as { remember?: string }).remember === 'yes' ? WEEK_MS : null;
    res.sendStatus(204);
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => {
      if (error) return next(error);
      res.redirect(303, '/');
    });
  });
  app.post('/notes/:key', (req, res) => {
    const { v } = req.body as { v: string };
    req.session.notes = { ...req.session.notes, [req.params.key]: v };
    res.sendStatus(204);
  });
  app.post('/set/:key', (req, res) => {
    (req.session as unknown as Record<string, unknown>)[req.params.key] = (
      req.body as { v: string }
    ).v;
    res.sendStatus(204);
  });
  app.get('/data', (req, res) => {
    res.json({ ...req.session });
  });
  app.get('/reload', async (req, res, next) => {
    try {
      // Another request of the same browser saves a note while this one runs.
      await fetch(`http://${req.headers.host}/notes/x`, {
        method: 'POST',
        headers: {
          Cookie: req.headers.cookie ?? '',
          'X-Forwarded-Proto': 'https',
          'Sec-Fetch-Site': 'same-origin',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ v: 'fresh', _csrf: req.csrfToken() }),
      });
      const stale = { ...req.session };
      await req.session.reload();
      res.json({ stale, fresh: { ...req.session } });
    } catch (error) {
      next(error);
    }
  });
  app.post('/promise-save', async (req, res, next) => {
    try {
      req.session.views = 100;
      await req.session.save();
      res.json({ id: req.sessionID });
    } catch (error) {
      next(error);
    }
  });
  app.get('/stream', (req, res) => {
    req.session.streamed = true;
    res.write('a');
    res.end('b');
  });
  app.post('/late-login', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    req.session.user = 'mallory';
    res.end('too late');
  });
  // Another device revokes every session of the user while this request runs.
  app.post('/revoke-then-write', async (req, res, next) => {
    try {
      await session.manager.revokeUserSessions(req.session.user as string);
      req.session.views = 1;
      res.sendStatus(204);
    } catch (error) {
      next(error);
    }
  });
  app.post('/unset', (req, res) => {
    (req as { session: unknown }).session = null;
    res.sendStatus(204);
  });
  app.use(session.errorHandler);
  return app;
}

const servers: Served[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(
  express: Express,
  store: SessionStore = createMemoryStore(),
  options: Partial<ExpressSessionOptions> = {},
) {
  const session = compat(store, options);
  const served = await serve(buildApp(express, session));
  servers.push(served);
  return { session, url: served.url, client: () => new Client(served.url) };
}

describe.each(EXPRESS_VERSIONS)('strongroom/express-session on %s', (_name, express) => {
  it('counts req.session.views across requests, storing nothing until the first write', async () => {
    const store = spyStore(createMemoryStore());
    const { client } = await start(express, store);
    const browser = client();
    const anonymous = await browser.send('/me');
    expect(anonymous.json()).toMatchObject({ user: null, id: null, sessionID: null });
    expect(anonymous.setCookies).toEqual([]);
    expect(store.calls.filter((call) => call.method === 'insert')).toHaveLength(0);
    for (const views of [1, 2, 3]) {
      expect((await browser.send('/views')).json()).toEqual({ views });
    }
    expect(store.calls.filter((call) => call.method === 'insert')).toHaveLength(1);
  });

  it('[SM-16] regenerate() then save() at login: a new token and session id, the old ones dead', async () => {
    const { client, session } = await start(express);
    const browser = client();
    await browser.send('/views');
    const before = browser.token;
    const anonymousId = (await browser.send('/me')).json<{ id: string }>().id;

    const login = await browser.post('/login', { user: 'alice' });
    expect(login.status).toBe(303);
    expect(browser.token).not.toBe(before);
    const me = (await browser.send('/me')).json<{ user: string; id: string; sessionID: string }>();
    expect(me.user).toBe('alice');
    expect(me.id).not.toBe(anonymousId);
    expect(me.sessionID).toBe(me.id);
    // The user is Strongroom's too: listed among alice's devices, data not carried over (SM-18).
    const devices = await session.manager.listUserSessions('alice');
    expect(devices.map((device) => device.id)).toEqual([me.id]);
    expect((await browser.send('/data')).json()).toEqual({ user: 'alice' });

    const stale = client();
    stale.jar.set(SID, before as string);
    expect((await stale.send('/me')).json()).toMatchObject({ user: null, id: null });
  });

  it('[SM-05] req.session.id and req.sessionID are the public id, never the token', async () => {
    const { client } = await start(express);
    const browser = client();
    await browser.post('/login', { user: 'alice' });
    const me = (await browser.send('/me')).json<{ id: string }>();
    expect(me.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(me.id).not.toBe(browser.token);
    expect(JSON.stringify(me)).not.toContain(browser.token as string);
  });

  it('[SM-25] destroy() at logout ends the session on the server', async () => {
    const { client, session } = await start(express);
    const browser = client();
    await browser.post('/login', { user: 'alice' });
    const token = browser.token as string;
    const logout = await browser.post('/logout');
    expect(logout.status).toBe(303);
    expect(browser.token).toBeUndefined();
    expect(await session.manager.listUserSessions('alice')).toEqual([]);
    const replay = client();
    replay.jar.set(SID, token);
    expect((await replay.send('/me')).json()).toMatchObject({ user: null });
  });

  it('[SM-10] req.session.cookie.maxAge = … at login is "remember me": a persistent cookie, never past the absolute timeout', async () => {
    const { client } = await start(express, createMemoryStore(), {
      absoluteTimeoutSeconds: 14 * 24 * 3600,
    });
    const browser = client();
    const remembered = await browser.post('/login', { user: 'alice', remember: 'yes' });
    const cookie = sessionSetCookie(remembered) as string;
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)?.[1]);
    expect(maxAge).toBeGreaterThan(13 * 24 * 3600);
    expect(maxAge).toBeLessThanOrEqual(14 * 24 * 3600);

    const other = client();
    const plain = await other.post('/login', { user: 'bob' });
    expect(sessionSetCookie(plain)).not.toMatch(/Max-Age|Expires/);
    // Chosen after login: the cookie (and so the token) is issued again, persistent.
    const token = other.token;
    const later = await other.post('/remember', { remember: 'yes' });
    expect(sessionSetCookie(later)).toMatch(/Max-Age=\d+/);
    expect(other.token).not.toBe(token);
    expect((await other.send('/me')).json()).toMatchObject({ user: 'bob' });
    // Asking again for what the cookie already is changes nothing.
    expect(sessionSetCookie(await other.post('/remember', { remember: 'yes' }))).toBeUndefined();
  });

  it('req.session.cookie.maxAge reads the time left before the idle deadline', async () => {
    const { client } = await start(express, createMemoryStore(), { idleTimeoutSeconds: 600 });
    const browser = client();
    await browser.post('/login', { user: 'alice' });
    const { maxAge } = (await browser.send('/me')).json<{ maxAge: number }>();
    expect(maxAge).toBeGreaterThan(590_000);
    expect(maxAge).toBeLessThanOrEqual(600_000);
  });

  it('[SM-31] writes to different keys in parallel requests all persist (key-level merge)', async () => {
    const { client } = await start(express);
    const browser = client();
    await browser.post('/login', { user: 'alice' });
    const { token } = (await browser.send('/csrf')).json<{ token: string }>();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    await Promise.all(
      keys.map((key) => browser.send(`/set/${key}`, { form: { v: key, _csrf: token } })),
    );
    const data = (await browser.send('/data')).json();
    for (const key of keys) expect(data[key]).toBe(key);
  });

  it('a nested change (req.session.notes.x = …) is saved, and a GET that changes nothing writes nothing', async () => {
    const store = spyStore(createMemoryStore());
    const { client } = await start(express, store);
    const browser = client();
    await browser.post('/login', { user: 'alice' });
    await browser.post('/notes/x', { v: '1' });
    await browser.post('/notes/y', { v: '2' });
    store.calls.length = 0;
    expect((await browser.send('/data')).json()).toEqual({
      user: 'alice',
      notes: { x: '1', y: '2' },
    });
    expect(store.calls.map((call) => call.method)).toEqual(['findByTokenHash']);
  });

  it('save() and the other methods return promises too', async () => {
    const { client } = await start(express);
    const browser = client();
    const { id } = (await browser.post('/promise-save')).json<{ id: string }>();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await browser.send('/data')).json()).toEqual({ views: 100 });
  });

  it('reload() shows what a concurrent request saved meanwhile', async () => {
    const { client } = await start(express);
    const browser = client();
    await browser.post('/login', { user: 'alice' });
    expect((await browser.send('/reload')).json()).toEqual({
      stale: { user: 'alice' },
      fresh: { user: 'alice', notes: { x: 'fresh' } },
    });
  });

  it('a body streamed with res.write() waits for the save, and carries the new cookie', async () => {
    const { client } = await start(express);
    const browser = client();
    const streamed = await browser.send('/stream');
    expect(streamed.body).toBe('ab');
    expect(sessionSetCookie(streamed)).toBeDefined();
    expect((await browser.send('/data')).json()).toEqual({ streamed: true });
  });

  it('a sign-in after the headers were sent fails the response instead of issuing nothing', async () => {
    const { client, session } = await start(express);
    const browser = client();
    await expect(browser.post('/late-login')).rejects.toThrow();
    expect(await session.manager.listUserSessions('mallory')).toEqual([]);
  });

  it("unset: 'destroy' ends the session when the app sets req.session = null; 'keep' keeps it", async () => {
    for (const unset of ['destroy', 'keep'] as const) {
      const { client, session } = await start(express, createMemoryStore(), { unset });
      const browser = client();
      await browser.post('/login', { user: 'alice' });
      await browser.post('/unset');
      const expected = unset === 'destroy' ? 0 : 1;
      expect(await session.manager.listUserSessions('alice')).toHaveLength(expected);
    }
  });

  it('warns once when the data names a user that is no id, and still regenerates at login', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { client, session } = await start(express, createMemoryStore(), {
      userId: (data) => (data.user === undefined ? null : ({ name: data.user } as never)),
    });
    const browser = client();
    await browser.send('/views');
    const before = browser.token;
    await browser.post('/login', { user: 'alice' });
    await browser.send('/views');
    expect(browser.token).not.toBe(before);
    expect((await browser.send('/me')).json()).toMatchObject({ user: 'alice' });
    expect(await session.manager.listUserSessions('alice')).toEqual([]);
    const codes = warn.mock.calls.map(([, options]) => (options as { code?: string }).code);
    expect(codes.filter((code) => code === 'STRONGROOM_UNRECOGNISED_USER')).toHaveLength(1);
    warn.mockRestore();
  });

  it('[SM-35] an unsafe request without the CSRF token is refused before the route runs', async () => {
    const { client } = await start(express);
    const browser = client();
    const refused = await browser.send('/login', { form: { user: 'alice' } });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'ERR_CSRF' });
    expect(browser.token).toBeUndefined();
  });

  it('[SM-56] a store outage at the end-of-request save answers 503, not the page the app sent', async () => {
    const store = switchableStore(createMemoryStore());
    const { client } = await start(express, store);
    const browser = client();
    await browser.send('/views');
    const { token } = (await browser.send('/csrf')).json<{ token: string }>();
    store.down = true;
    const reply = await browser.send('/set/k', { form: { v: '1', _csrf: token } });
    // The load fails first here; a failure at the save itself is the next test.
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).not.toBeNull();
  });

  it('[SM-56] a save that fails after the route ran replaces its response with a 503', async () => {
    const inner = createMemoryStore();
    let failUpdates = false;
    const store: SessionStore = Object.assign(Object.create(inner) as SessionStore, {
      update: (...args: Parameters<SessionStore['update']>) =>
        failUpdates ? Promise.reject(new Error('connection reset')) : inner.update(...args),
    });
    const { client } = await start(express, store);
    const browser = client();
    await browser.send('/views');
    failUpdates = true;
    const reply = await browser.send('/views');
    expect(reply.status).toBe(503);
    expect(reply.json()).toMatchObject({ error: 'ERR_STORE_UNAVAILABLE' });
    expect(reply.headers.get('content-type')).toMatch(/json/);
    failUpdates = false;
    expect((await browser.send('/views')).json()).toEqual({ views: 2 });
  });

  it('[SM-31] a session revoked while a request runs is not brought back by its save', async () => {
    const { client, session } = await start(express);
    const browser = client();
    await browser.post('/login', { user: 'alice' });
    const reply = await browser.post('/revoke-then-write');
    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ error: 'ERR_SESSION_ENDED' });
    expect(await session.manager.listUserSessions('alice')).toEqual([]);
    expect((await browser.send('/me')).json()).toMatchObject({ user: null, id: null });
  });
});

/**
 * The same app on express-session itself: the routes above are plain express-session code, so
 * what the tests call "unchanged" is. (Its `/csrf` route gets an empty token: express-session
 * has no CSRF defence.)
 */
describe('the same app on express-session 1.x', () => {
  const realSession = createRequire(import.meta.url)('express-session') as (
    options: object,
  ) => RequestHandler;

  async function startReal() {
    const middleware = realSession({
      secret: 'test only',
      name: SID,
      resave: false,
      saveUninitialized: false,
      cookie: { secure: true, httpOnly: true, sameSite: 'lax' },
    });
    const withoutCSRF: RequestHandler = (req, res, next) => {
      (req as { csrfToken?: () => string }).csrfToken = () => '';
      middleware(req, res, next);
    };
    const session = Object.assign(withoutCSRF, {
      errorHandler: ((error, _req, _res, next) => {
        next(error);
      }) satisfies ExpressSessionMiddleware['errorHandler'],
    }) as unknown as ExpressSessionMiddleware;
    const served = await serve(buildApp(express5, session));
    servers.push(served);
    return new Client(served.url);
  }

  it('counts views, signs in with regenerate() + save(), remembers, and signs out with destroy()', async () => {
    const browser = await startReal();
    for (const views of [1, 2]) expect((await browser.send('/views')).json()).toEqual({ views });
    const before = (await browser.send('/me')).json<{ sessionID: string }>().sessionID;
    const login = await browser.post('/login', { user: 'alice', remember: 'yes' });
    expect(login.status).toBe(303);
    expect(sessionSetCookie(login)).toMatch(/Expires=/);
    const me = (await browser.send('/me')).json<{ user: string; sessionID: string }>();
    expect(me.user).toBe('alice');
    expect(me.sessionID).not.toBe(before);
    expect((await browser.post('/logout')).status).toBe(303);
    expect((await browser.send('/me')).json()).toMatchObject({ user: null });
  });
});
