import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSessionManager, type SessionManagerOptions } from '../../src/index.js';
import { expressSessions } from '../../src/adapters/express.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { spyStore, TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { captureWarnings } from '../support/warnings.js';
import { close, EXPRESS_VERSIONS, type Express, HTTPS, listen } from './express-helpers.js';

/** The messages of the process warnings emitted with `code` in this test. */
const warnings = captureWarnings();

const SAME_ORIGIN = { ...HTTPS, 'Sec-Fetch-Site': 'same-origin', Origin: TEST_ORIGIN };
const FORM = { ...SAME_ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' };
const HINT =
  /mount express\.urlencoded\(\) \(or your body parser\) before the Strongroom middleware/;

describe.each(EXPRESS_VERSIONS)(
  '%s: a body parser mounted after the middleware',
  (_name, express) => {
    let server: Server;
    let url: string;

    // A fresh adapter per test: each warns at most once.
    beforeEach(async () => {
      const auth = expressSessions(
        createSessionManager({
          store: createMemoryStore(),
          keys: [TEST_KEY],
          csrf: { origins: [TEST_ORIGIN] },
        }),
      );
      const app = express();
      app.set('trust proxy', 'loopback');
      // Wrong order in /late (and no form parser at all in /json-only); right in /parsed.
      app.use('/late', auth.middleware, express.urlencoded({ extended: false }));
      app.use('/json-only', express.json(), auth.middleware);
      app.use('/parsed', express.urlencoded({ extended: false }), auth.middleware);
      app.post(['/late', '/json-only', '/parsed'], (_req, res) => {
        res.sendStatus(204);
      });
      app.use(auth.errorHandler);
      ({ server, url } = await listen(app));
    });
    afterEach(() => close(server));

    async function post(
      path: string,
      headers: Record<string, string>,
      body?: NonNullable<Parameters<typeof fetch>[1]>['body'],
    ) {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers,
        ...(body !== undefined && { body }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    it('says to mount the parser first; the reason stays token-missing; warns once', async () => {
      for (const path of ['/late', '/json-only', '/late']) {
        const response = await post(path, FORM, '_csrf=whatever&note=hi');
        expect(response.status, path).toBe(403);
        expect(response.body).toMatchObject({ error: 'ERR_CSRF', reason: 'token-missing' });
        expect(response.body.message).toMatch(HINT);
        expect(response.body.message).toMatch(
          /^Cross-site request forgery check failed: token-missing\. /,
        );
      }
      expect(warnings('STRONGROOM_BODY_NOT_PARSED')).toEqual([expect.stringMatching(HINT)]);
    });

    it('says so for a multipart form too', async () => {
      const form = new FormData();
      form.set('_csrf', 'whatever');
      const response = await post('/late', SAME_ORIGIN, form);
      expect(response.body.reason).toBe('token-missing');
      expect(response.body.message).toMatch(HINT);
    });

    it.each([
      ['the body was parsed (and holds no token)', '/parsed', FORM, 'note=hi'],
      ['there is no body', '/late', FORM, undefined],
      [
        'the body is not a form',
        '/late',
        { ...SAME_ORIGIN, 'Content-Type': 'application/json' },
        '{}',
      ],
      ['the token header was sent, empty', '/late', { ...FORM, 'X-CSRF-Token': '' }, 'note=hi'],
    ])('keeps the plain message when %s', async (_label, path, headers, body) => {
      const response = await post(path, headers, body);
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        error: 'ERR_CSRF',
        reason: 'token-missing',
        message: 'Cross-site request forgery check failed: token-missing',
      });
      expect(warnings('STRONGROOM_BODY_NOT_PARSED')).toEqual([]);
    });

    it('leaves other CSRF failures alone', async () => {
      const response = await post('/late', { ...FORM, 'Sec-Fetch-Site': 'cross-site' }, '_csrf=x');
      expect(response.body).toMatchObject({ reason: 'cross-site' });
      expect(response.body.message).not.toMatch(HINT);
    });
  },
);

describe.each(EXPRESS_VERSIONS)('%s: cookie.secure on a plain-HTTP server', (_name, express) => {
  async function start(
    options: Partial<SessionManagerOptions>,
    trustProxy: boolean,
  ): Promise<{
    server: Server;
    url: string;
    events: string[];
    store: ReturnType<typeof spyStore>;
  }> {
    const store = spyStore(createMemoryStore());
    const manager = createSessionManager({
      store,
      keys: [TEST_KEY],
      csrf: { protection: 'off' },
      ...options,
    });
    const events: string[] = [];
    manager.on('*', (event) => events.push(event.type));
    const auth = expressSessions(manager);
    const app: ReturnType<Express> = express();
    if (trustProxy) app.set('trust proxy', 'loopback');
    app.use(auth.middleware);
    app.get('/', (req, res) => {
      res.json({ user: auth.session(req).userId });
    });
    app.use(auth.errorHandler);
    return { ...(await listen(app)), events, store };
  }

  it('[SM-06] warns once, at the first plain-HTTP request, how to fix it, touching nothing', async () => {
    const { server, url, events, store } = await start({}, false);
    try {
      expect(warnings('STRONGROOM_INSECURE_TRANSPORT')).toEqual([]);
      for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(200);
      const [message, ...more] = warnings('STRONGROOM_INSECURE_TRANSPORT');
      expect(more).toEqual([]);
      expect(message).toMatch(/plain HTTP while cookie\.secure is "always"/);
      expect(message).toMatch(/Serve the app over HTTPS/);
      expect(message).toMatch(/trust proxy/);
      expect(message).toMatch(/allow-http-development/);
      expect(message).not.toMatch(/X-Forwarded-Proto/);
      // The check is a dry run: no store call, no event.
      expect(store.calls).toEqual([]);
      expect(events).toEqual([]);
    } finally {
      await close(server);
    }
  });

  it('[SM-44] names an untrusted X-Forwarded-Proto when the request carried one', async () => {
    const { server, url } = await start({}, false);
    try {
      await fetch(url, { headers: HTTPS });
      expect(warnings('STRONGROOM_INSECURE_TRANSPORT')).toEqual([
        expect.stringMatching(
          /carried "X-Forwarded-Proto: https", but Express does not trust the proxy/,
        ),
      ]);
    } finally {
      await close(server);
    }
  });

  it('stays quiet over HTTPS, and over HTTP in development mode', async () => {
    const secure = await start({}, true);
    const development = await start({ cookie: { secure: 'allow-http-development' } }, false);
    try {
      await fetch(secure.url, { headers: HTTPS });
      await fetch(development.url);
      expect(warnings('STRONGROOM_INSECURE_TRANSPORT')).toEqual([]);
    } finally {
      await Promise.all([close(secure.server), close(development.server)]);
    }
  });
});
