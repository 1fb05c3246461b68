import { createRequire } from 'node:module';
import express, { type RequestHandler } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import {
  expressSession,
  upgradeLegacySessions,
  type LegacySessionStore,
} from '../../src/adapters/express-session.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { Client, serve, sessionSetCookie, type Served } from './express-session-helpers.js';

const require = createRequire(import.meta.url);
const realSession = require('express-session') as ((options: object) => RequestHandler) & {
  MemoryStore: new () => LegacySessionStore;
};
const SECRET = 'the old express-session secret';

const servers: Served[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** The app before the cut-over: express-session, a Passport-shaped user in the session. */
async function legacyApp(store: LegacySessionStore) {
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(realSession({ store, secret: SECRET, resave: false, saveUninitialized: false }));
  app.post('/login', (req, res) => {
    Object.assign(req.session, { passport: { user: '7' }, cart: ['book'] });
    res.sendStatus(204);
  });
  const served = await serve(app);
  servers.push(served);
  return served;
}

/** The app after it, with the upgrade mounted for the transition. */
async function upgradedApp(store: LegacySessionStore) {
  const session = expressSession({
    store: createMemoryStore(),
    keys: [TEST_KEY],
    csrf: { origins: [TEST_ORIGIN] },
  });
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(session, upgradeLegacySessions({ store, secret: ['a newer secret', SECRET] }));
  app.get('/me', (req, res) => {
    res.json({ ...req.session, sessionID: req.sessionID });
  });
  app.post('/me', (_req, res) => {
    res.sendStatus(204);
  });
  app.use(session.errorHandler);
  const served = await serve(app);
  servers.push(served);
  return { session, served };
}

async function legacyCookie(store: LegacySessionStore): Promise<string> {
  const legacy = new Client((await legacyApp(store)).url);
  await legacy.send('/login', { method: 'POST' });
  const cookie = legacy.jar.get('connect.sid');
  if (cookie === undefined) throw new Error('express-session set no cookie');
  return cookie;
}

function stored(store: LegacySessionStore, sid: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    store.get(sid, (error, data) => {
      if (error) reject(new Error('the old store failed', { cause: error }));
      else resolve(data ?? null);
    });
  });
}

describe('upgradeLegacySessions(): staging the cut-over from express-session', () => {
  it('[SM-16] signs a user of the old session in afresh (new token and id), and ends the old one', async () => {
    const oldStore = new realSession.MemoryStore();
    const cookie = await legacyCookie(oldStore);
    const sid = decodeURIComponent(cookie).slice(2, decodeURIComponent(cookie).lastIndexOf('.'));
    expect(await stored(oldStore, sid)).not.toBeNull();
    const { session, served } = await upgradedApp(oldStore);

    const browser = new Client(served.url);
    browser.jar.set('connect.sid', cookie);
    const first = await browser.send('/me');
    expect(first.json()).toMatchObject({ passport: { user: '7' } });
    expect(first.json()).not.toHaveProperty('cart');
    expect(sessionSetCookie(first)).toBeDefined();
    expect(browser.jar.has('connect.sid')).toBe(false);
    expect(await session.manager.listUserSessions('7')).toHaveLength(1);
    expect(await stored(oldStore, sid)).toBeNull();

    // The old cookie is single-use: replayed alone, it signs nobody in.
    const replay = new Client(served.url);
    replay.jar.set('connect.sid', cookie);
    expect((await replay.send('/me')).json()).toEqual({ sessionID: null });
    expect(browser.token).toBeDefined();
    expect((await browser.send('/me')).json()).toMatchObject({ passport: { user: '7' } });
  });

  it('[SM-15] ignores a forged or tampered cookie, and destroys nothing for it', async () => {
    const oldStore = new realSession.MemoryStore();
    const cookie = await legacyCookie(oldStore);
    const { served } = await upgradedApp(oldStore);
    for (const forged of [
      cookie.replace(/.(%2B|%2F|[A-Za-z0-9])$/, (last) => (last === 'A' ? 'B' : 'A')),
      `s%3A${'x'.repeat(32)}.${'y'.repeat(43)}`,
      'not-signed',
      '%E0%A4%A',
    ]) {
      const browser = new Client(served.url);
      browser.jar.set('connect.sid', forged);
      const reply = await browser.send('/me');
      expect(reply.status).toBe(200);
      expect(reply.json()).toEqual({ sessionID: null });
      expect(browser.token).toBeUndefined();
    }
    // The genuine cookie still works afterwards: nothing was destroyed for the forgeries.
    const browser = new Client(served.url);
    browser.jar.set('connect.sid', cookie);
    expect((await browser.send('/me')).json()).toMatchObject({ passport: { user: '7' } });
  });

  it('[SM-56] answers 503 when the old store fails, signing nobody in', async () => {
    const oldStore = new realSession.MemoryStore();
    const cookie = await legacyCookie(oldStore);
    const failing: LegacySessionStore = {
      get: (_sid, callback) => {
        callback(new Error('connection refused'));
      },
      destroy: (_sid, callback) => callback?.(),
    };
    const { served } = await upgradedApp(failing);
    const browser = new Client(served.url);
    browser.jar.set('connect.sid', cookie);
    const reply = await browser.send('/me');
    expect(reply.status).toBe(503);
    expect(browser.token).toBeUndefined();
  });

  it('[SM-35] an unsafe request carrying only the old cookie is CSRF-checked first', async () => {
    const oldStore = new realSession.MemoryStore();
    const cookie = await legacyCookie(oldStore);
    const { served } = await upgradedApp(oldStore);
    const browser = new Client(served.url);
    browser.jar.set('connect.sid', cookie);
    expect((await browser.send('/me', { method: 'POST' })).status).toBe(403);
    expect((await browser.send('/me')).json()).toMatchObject({ passport: { user: '7' } });
  });

  it('refuses a missing secret or store at start-up', () => {
    expect(() => upgradeLegacySessions({ store: {} as LegacySessionStore, secret: '' })).toThrow(
      /secret[\s\S]*store/,
    );
  });
});
