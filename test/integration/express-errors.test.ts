import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSessionManager,
  CSRFError,
  InvalidArgumentError,
  SessionEndedError,
  TooManyRequestsError,
  type StrongroomError,
} from '../../src/index.js';
import { StoreUnavailableError } from '../../src/store.js';
import { expressSessions, type ExpressSessionsOptions } from '../../src/adapters/express.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY } from '../support/harness.js';
import {
  BROWSER_ACCEPT,
  close,
  EXPRESS_VERSIONS,
  type Express,
  HTTPS,
  listen,
} from './express-helpers.js';

const ERRORS: Record<string, () => StrongroomError> = {
  'store-down': () => new StoreUnavailableError('load'),
  ended: () => new SessionEndedError(),
  csrf: () => new CSRFError('token-missing'),
  'too-many': () => new TooManyRequestsError(42),
  // A message that must never reach a browser page: markup and something secret-looking.
  internal: () => new InvalidArgumentError('<script>alert(1)</script> key=k1:c2VjcmV0'),
};

/** An app whose routes fail with each error after setting HTML (or a download) headers. */
async function start(express: Express, options: ExpressSessionsOptions) {
  const auth = expressSessions(
    createSessionManager({
      store: createMemoryStore(),
      keys: [TEST_KEY],
      csrf: { protection: 'off' },
    }),
    options,
  );
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(auth.middleware);
  app.get('/fail/:error', (req, res, next) => {
    res.type('html');
    if (req.query.download !== undefined) res.attachment('report.pdf');
    next(ERRORS[req.params.error]!());
  });
  app.use(auth.errorHandler);
  return listen(app);
}

describe.each(EXPRESS_VERSIONS)('%s errorHandler', (_name, express) => {
  describe("errors: 'json' (the default)", () => {
    let server: Server;
    let url: string;
    beforeAll(async () => ({ server, url } = await start(express, {})));
    afterAll(() => close(server));

    it('labels the JSON body as JSON even when the app had set text/html or a download', async () => {
      for (const query of ['', '?download']) {
        const response = await fetch(`${url}/fail/ended${query}`, {
          headers: { ...HTTPS, Accept: BROWSER_ACCEPT },
        });
        expect(response.status).toBe(401);
        expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(response.headers.get('content-disposition')).toBeNull();
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(await response.json()).toEqual({
          error: 'ERR_SESSION_ENDED',
          message: 'The session has ended; sign in again',
        });
      }
    });

    it('keeps Retry-After on 503 and 429, and the CSRF reason', async () => {
      const down = await fetch(`${url}/fail/store-down`, { headers: HTTPS });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      const tooMany = await fetch(`${url}/fail/too-many`, { headers: HTTPS });
      expect(tooMany.status).toBe(429);
      expect(tooMany.headers.get('retry-after')).toBe('42');
      const csrf = await fetch(`${url}/fail/csrf`, { headers: HTTPS });
      expect(await csrf.json()).toMatchObject({ error: 'ERR_CSRF', reason: 'token-missing' });
    });
  });

  describe("errors: 'negotiate'", () => {
    let server: Server;
    let url: string;
    beforeAll(async () => ({ server, url } = await start(express, { errors: 'negotiate' })));
    afterAll(() => close(server));

    it('answers a browser with a minimal HTML page: the status and a plain message', async () => {
      const response = await fetch(`${url}/fail/csrf?download`, {
        headers: { ...HTTPS, Accept: BROWSER_ACCEPT },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-disposition')).toBeNull();
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('vary')).toBe('Cookie, Accept');
      const page = await response.text();
      expect(page).toMatch(/^<!doctype html>/);
      expect(page).toContain('<title>403 Forbidden</title>');
      expect(page).toContain('<h1>403 Forbidden</h1>');
      expect(page).toContain('This form has expired or was sent from another site.');
      expect(page).not.toContain('token-missing');
    });

    it('never shows the error message, markup from it or a stack on the page', async () => {
      const response = await fetch(`${url}/fail/internal`, {
        headers: { ...HTTPS, Accept: BROWSER_ACCEPT },
      });
      expect(response.status).toBe(500);
      const page = await response.text();
      expect(page).toContain('<h1>500 Internal Server Error</h1>');
      expect(page).toContain('Something went wrong on our side.');
      for (const leak of ['<script>', 'alert', 'c2VjcmV0', 'key=', 'at ', '.ts:']) {
        expect(page).not.toContain(leak);
      }
    });

    it('keeps Retry-After on the 503 and 429 pages', async () => {
      const headers = { ...HTTPS, Accept: BROWSER_ACCEPT };
      const down = await fetch(`${url}/fail/store-down`, { headers });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(await down.text()).toContain('<h1>503 Service Unavailable</h1>');
      const tooMany = await fetch(`${url}/fail/too-many`, { headers });
      expect(tooMany.status).toBe(429);
      expect(tooMany.headers.get('retry-after')).toBe('42');
      expect(tooMany.headers.get('content-type')).toBe('text/html; charset=utf-8');
    });

    it('answers fetch, API clients and requests without Accept with JSON labelled as JSON', async () => {
      for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
        const response = await fetch(`${url}/fail/too-many`, {
          headers: accept === undefined ? HTTPS : { ...HTTPS, Accept: accept },
        });
        expect(response.status, accept).toBe(429);
        expect(response.headers.get('retry-after')).toBe('42');
        expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(response.headers.get('vary')).toBe('Cookie, Accept');
        expect(await response.json()).toMatchObject({ error: 'ERR_TOO_MANY_REQUESTS' });
      }
    });

    it('[SM-57] answers a real store outage with a 503 page to a browser', async () => {
      const store = createMemoryStore();
      const manager = createSessionManager({
        store,
        keys: [TEST_KEY],
        csrf: { protection: 'off' },
      });
      const auth = expressSessions(manager, { errors: 'negotiate' });
      const app = express();
      app.set('trust proxy', 'loopback');
      app.use(auth.middleware);
      app.get('/write', (req, res, next) => {
        auth
          .session(req)
          .set('note', 'x')
          .then(() => res.sendStatus(204), next);
      });
      app.use(auth.errorHandler);
      store.insert = () => Promise.reject(new Error('connect ECONNREFUSED'));
      const { server: outage, url: outageUrl } = await listen(app);
      try {
        const response = await fetch(`${outageUrl}/write`, {
          headers: { ...HTTPS, Accept: BROWSER_ACCEPT },
        });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(await response.text()).not.toContain('ECONNREFUSED');
      } finally {
        await close(outage);
      }
    });
  });

  it('refuses an unknown errors mode', () => {
    const manager = createSessionManager({
      store: createMemoryStore(),
      keys: [TEST_KEY],
      csrf: { protection: 'off' },
    });
    expect(() => expressSessions(manager, { errors: 'html' as 'json' })).toThrow(
      /errors must be "json" or "negotiate"/,
    );
  });
});
