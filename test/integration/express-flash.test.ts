import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { createFlash, createSessionManager, flash, type Session } from '../../src/index.js';
import { expressSessions } from '../../src/adapters/express.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { spyStore, TEST_KEY } from '../support/harness.js';
import {
  close,
  EXPRESS_VERSIONS,
  handle,
  HTTPS,
  listen,
  sessionCookie,
} from './express-helpers.js';

interface AppData {
  cart: string[];
}
interface Notice {
  kind: 'success' | 'error';
  text: string;
}

describe.each(EXPRESS_VERSIONS)('%s flash messages', (_name, express) => {
  const store = spyStore(createMemoryStore());
  const notices = createFlash<Notice>();
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const manager = createSessionManager<AppData>({
      store,
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
        const session = auth.session(req);
        await session.login('alice', { data: { cart: ['tea'] } });
        await flash.set(session, 'Welcome back');
        res.redirect(303, '/account');
      }),
    );
    app.post(
      '/notice',
      handle(async (req, res) => {
        await notices.set(auth.session(req), { kind: 'success', text: 'Password changed' });
        res.redirect(303, '/account');
      }),
    );
    app.get(
      '/account',
      handle(async (req, res) => {
        const session = auth.session(req);
        res.json({ message: await flash.take(session), cart: session.get('cart') ?? null });
      }),
    );
    app.get(
      '/notice',
      handle(async (req, res) => {
        res.json({ notice: await notices.take(auth.session(req)) });
      }),
    );
    app.use(auth.errorHandler);
    ({ server, url } = await listen(app));
  });
  afterAll(() => close(server));
  beforeEach(() => {
    store.calls.length = 0;
  });

  async function signIn(): Promise<string> {
    const response = await fetch(`${url}/login`, {
      method: 'POST',
      headers: HTTPS,
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    return sessionCookie(response)!;
  }

  const writes = (): string[] =>
    store.calls.map((c) => c.method).filter((m) => m === 'update' || m === 'insert');

  it('shows a message once, across the redirect, and keeps the rest of the data', async () => {
    const cookie = await signIn();
    const headers = { ...HTTPS, Cookie: cookie };
    const first = await fetch(`${url}/account`, { headers });
    expect(await first.json()).toEqual({ message: 'Welcome back', cart: ['tea'] });
    const second = await fetch(`${url}/account`, { headers });
    expect(await second.json()).toEqual({ message: null, cart: ['tea'] });
  });

  it('writes the removal once, and nothing at all when there is no message', async () => {
    const cookie = await signIn();
    const headers = { ...HTTPS, Cookie: cookie };
    store.calls.length = 0;
    await fetch(`${url}/account`, { headers });
    expect(writes()).toEqual(['update']);
    store.calls.length = 0;
    const empty = await fetch(`${url}/account`, { headers });
    expect(await empty.json()).toMatchObject({ message: null });
    expect(writes()).toEqual([]);
    expect(empty.headers.getSetCookie()).toEqual([]);
  });

  it('creates no session for an anonymous visitor without a message', async () => {
    const response = await fetch(`${url}/account`, { headers: HTTPS });
    expect(await response.json()).toEqual({ message: null, cart: null });
    expect(writes()).toEqual([]);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('carries a typed message for an anonymous visitor (the session is created)', async () => {
    const posted = await fetch(`${url}/notice`, {
      method: 'POST',
      headers: HTTPS,
      redirect: 'manual',
    });
    const cookie = sessionCookie(posted)!;
    expect(cookie).toBeDefined();
    const headers = { ...HTTPS, Cookie: cookie };
    const shown = await fetch(`${url}/notice`, { headers });
    expect(await shown.json()).toEqual({ notice: { kind: 'success', text: 'Password changed' } });
    const again = await fetch(`${url}/notice`, { headers });
    expect(await again.json()).toEqual({ notice: null });
  });

  it('is typed by the message and accepts a session of any data type', () => {
    expectTypeOf(flash.take<AppData>).returns.toEqualTypeOf<Promise<string | null>>();
    expectTypeOf(notices.take<AppData>).returns.toEqualTypeOf<Promise<Notice | null>>();
    expectTypeOf(flash.set<AppData>)
      .parameter(0)
      .toEqualTypeOf<Session<AppData>>();
    expectTypeOf(notices.set<AppData>)
      .parameter(1)
      .toEqualTypeOf<Notice>();
  });
});
