import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type RequestHandler } from 'express';
import { Redis } from 'ioredis';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  expressSession,
  type ExpressSessionMiddleware,
} from '../../src/adapters/express-session.js';
import type { SessionStore } from '../../src/core/store.js';
import { createRedisStore } from '../../src/stores/redis.js';
import { createSQLiteStore } from '../../src/stores/sqlite.js';
import { deleteKeys, freshPrefix } from '../contract/redis-support.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { serviceAvailable } from '../support/services.js';
import { Client, serve, SID, type Served } from './express-session-helpers.js';

interface User {
  readonly id: string;
  readonly username: string;
  readonly password: string;
}

declare module '../../src/adapters/express-session.js' {
  interface SessionData {
    returnTo: string;
    messages: string[];
  }
}

const USERS: readonly User[] = [
  { id: '1', username: 'alice', password: 'wonderland' },
  { id: '2', username: 'bob', password: 'builder' },
];

/**
 * The app of Passport's own username-and-password tutorial (todos-express-password), written
 * against express-session's API; only the session middleware comes from Strongroom.
 */
function passportApp(session: ExpressSessionMiddleware) {
  const passport = new Passport();
  passport.use(
    new LocalStrategy((username, password, done) => {
      const user = USERS.find((candidate) => candidate.username === username);
      if (user === undefined || user.password !== password) {
        done(null, false, { message: 'Incorrect username or password.' });
        return;
      }
      done(null, user);
    }),
  );
  passport.serializeUser((user, done) => {
    done(null, (user as User).id);
  });
  passport.deserializeUser((id: string, done) => {
    done(null, USERS.find((user) => user.id === id) ?? false);
  });

  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(express.urlencoded({ extended: false }), session, passport.session() as RequestHandler);
  app.get('/csrf', (req, res) => {
    res.json({ token: req.csrfToken() });
  });
  app.get('/login', (req, res) => {
    res.json({ messages: req.session.messages ?? [] });
  });
  app.post(
    '/login/password',
    passport.authenticate('local', {
      successReturnToOrRedirect: '/account',
      failureRedirect: '/login',
      failureMessage: true,
      keepSessionInfo: true,
    }) as RequestHandler,
  );
  app.post(
    '/login/strict',
    passport.authenticate('local', {
      successReturnToOrRedirect: '/account',
      failureRedirect: '/login',
    }) as RequestHandler,
  );
  app.get(['/account', '/orders'], (req, res) => {
    if (req.user === undefined) {
      req.session.returnTo = req.originalUrl;
      res.redirect('/login');
      return;
    }
    res.json({ user: (req.user as User).username, sessionID: req.sessionID });
  });
  app.post('/logout', (req, res, next) => {
    req.logout((error) => {
      if (error) return next(error);
      res.redirect('/');
    });
  });
  app.use(session.errorHandler);
  return app;
}

interface StoreCase {
  readonly name: string;
  readonly available: boolean;
  open(): SessionStore;
  cleanUp(): Promise<void>;
}

const directory = mkdtempSync(join(tmpdir(), 'strongroom-passport-'));
let files = 0;
const redisAvailable = await serviceAvailable('Redis', 6379);
const admin = new Redis({ port: 6379, lazyConnect: true });
admin.on('error', () => {});
const prefixes: string[] = [];

const STORES: StoreCase[] = [
  {
    name: 'SQLite',
    available: true,
    open: () => createSQLiteStore({ path: join(directory, `${files++}.db`) }),
    cleanUp: () => Promise.resolve(),
  },
  {
    name: 'Redis',
    available: redisAvailable,
    open() {
      const keyPrefix = freshPrefix();
      prefixes.push(keyPrefix);
      return createRedisStore({ url: 'redis://127.0.0.1:6379', keyPrefix });
    },
    async cleanUp() {
      if (admin.status === 'wait') await admin.connect();
      for (const prefix of prefixes.splice(0)) await deleteKeys(admin, prefix);
    },
  },
];

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
  admin.disconnect();
});

describe.each(STORES)(
  'Passport 0.7 + passport-local on strongroom/express-session, $name store',
  (store) => {
    const opened: { served: Served; store: SessionStore }[] = [];

    afterEach(async () => {
      for (const { served, store: sessions } of opened.splice(0)) {
        await served.close();
        await sessions.close();
      }
      await store.cleanUp();
    });

    async function start() {
      const sessions = store.open();
      const session = expressSession({
        store: sessions,
        keys: [TEST_KEY],
        csrf: { origins: [TEST_ORIGIN] },
      });
      const served = await serve(passportApp(session));
      opened.push({ served, store: sessions });
      return { session, client: () => new Client(served.url) };
    }

    it.skipIf(!store.available)(
      '[SM-16][SM-25] login → protected page → logout: a new token and session id at login, the session ended on the server at logout',
      async () => {
        const { session, client } = await start();
        const browser = client();
        // Anonymous: the protected page sends to /login and remembers where the visitor was going.
        const guarded = await browser.send('/orders');
        expect(guarded.status).toBe(302);
        expect(guarded.headers.get('location')).toBe('/login');
        const preLoginToken = browser.token;
        expect(preLoginToken).toBeDefined();

        const login = await browser.post('/login/password', {
          username: 'alice',
          password: 'wonderland',
        });
        expect(login.status).toBe(302);
        // keepSessionInfo carried returnTo across the regeneration.
        expect(login.headers.get('location')).toBe('/orders');
        expect(browser.token).not.toBe(preLoginToken);
        const page = (await browser.send('/orders')).json<{ user: string; sessionID: string }>();
        expect(page.user).toBe('alice');
        const devices = await session.manager.listUserSessions('1');
        expect(devices.map((device) => device.id)).toEqual([page.sessionID]);

        const replayPreLogin = client();
        replayPreLogin.jar.set(SID, preLoginToken as string);
        expect((await replayPreLogin.send('/orders')).status).toBe(302);

        const signedInToken = browser.token as string;
        const logout = await browser.post('/logout');
        expect(logout.status).toBe(302);
        expect(logout.headers.get('location')).toBe('/');
        expect(await session.manager.listUserSessions('1')).toEqual([]);
        const replay = client();
        replay.jar.set(SID, signedInToken);
        expect((await replay.send('/account')).status).toBe(302);
      },
    );

    it.skipIf(!store.available)(
      '[SM-18] without keepSessionInfo, nothing from before the login survives it',
      async () => {
        const { client } = await start();
        const browser = client();
        await browser.send('/orders');
        const login = await browser.post('/login/strict', { username: 'bob', password: 'builder' });
        expect(login.headers.get('location')).toBe('/account');
        expect((await browser.send('/account')).json()).toMatchObject({ user: 'bob' });
      },
    );

    it.skipIf(!store.available)(
      'a wrong password keeps the visitor anonymous, with failureMessage in req.session.messages',
      async () => {
        const { session, client } = await start();
        const browser = client();
        const failed = await browser.post('/login/password', {
          username: 'alice',
          password: 'nope',
        });
        expect(failed.headers.get('location')).toBe('/login');
        expect((await browser.send('/login')).json()).toEqual({
          messages: ['Incorrect username or password.'],
        });
        expect(await session.manager.listUserSessions('1')).toEqual([]);
      },
    );

    it.skipIf(!store.available)(
      '[SM-17] another user signing in over a session gets a new session, none of the first user’s',
      async () => {
        const { session, client } = await start();
        const browser = client();
        await browser.post('/login/password', { username: 'alice', password: 'wonderland' });
        const aliceToken = browser.token as string;
        await browser.post('/login/password', { username: 'bob', password: 'builder' });
        expect(browser.token).not.toBe(aliceToken);
        expect((await browser.send('/account')).json()).toMatchObject({ user: 'bob' });
        expect(await session.manager.listUserSessions('1')).toEqual([]);
        expect(await session.manager.listUserSessions('2')).toHaveLength(1);
      },
    );
  },
);
