import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CSRFError,
  InvalidArgumentError,
  SessionEndedError,
  TooManyRequestsError,
} from '../../src/index.js';
import { StoreUnavailableError } from '../../src/store.js';
import { fastifySessions, type FastifySessionsOptions } from '../../src/adapters/fastify.js';
import { TEST_ORIGIN } from '../support/harness.js';
import {
  BROWSER_ACCEPT,
  captureWarnings,
  createApp,
  createManager,
  FORM,
  HTTPS,
  SAME_ORIGIN,
  sessionCookie,
} from './fastify-helpers.js';

const ERRORS: Record<string, () => Error> = {
  'store-down': () => new StoreUnavailableError('load'),
  ended: () => new SessionEndedError(),
  csrf: () => new CSRFError('token-missing'),
  'too-many': () => new TooManyRequestsError(42),
  // A message that must never reach a browser page: markup and something secret-looking.
  internal: () => new InvalidArgumentError('<script>alert(1)</script> key=k1:c2VjcmV0'),
  plain: () => new Error('not ours'),
};

/** An app whose routes fail with each error after setting HTML (or a download) headers. */
async function start(options: FastifySessionsOptions): Promise<FastifyInstance> {
  const auth = fastifySessions(createManager(), options);
  const app = createApp();
  await app.register(auth.plugin);
  app.setErrorHandler(auth.errorHandler);
  app.get<{ Params: { error: string }; Querystring: { download?: string; serializer?: string } }>(
    '/fail/:error',
    async (request, reply) => {
      reply.type('text/html');
      if (request.query.download !== undefined)
        reply.header('content-disposition', 'attachment; filename="report.pdf"');
      if (request.query.serializer !== undefined) reply.serializer(() => 'serialized by the app');
      throw ERRORS[request.params.error]!();
    },
  );
  return app;
}

describe('Fastify errorHandler', () => {
  describe("errors: 'json' (the default)", () => {
    let app: FastifyInstance;
    beforeAll(async () => (app = await start({})));
    afterAll(() => app.close());

    it('labels the JSON body as JSON even when the app had set text/html, a download or a serializer', async () => {
      for (const query of ['', '?download', '?serializer']) {
        const response = await app.inject({
          url: `/fail/ended${query}`,
          headers: { ...HTTPS, accept: BROWSER_ACCEPT },
        });
        expect(response.statusCode).toBe(401);
        expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(response.headers['content-disposition']).toBeUndefined();
        expect(response.headers['x-content-type-options']).toBe('nosniff');
        expect(response.headers['cache-control']).toBe('no-store');
        expect(response.headers.vary).toBe('Cookie');
        expect(response.json()).toEqual({
          error: 'ERR_SESSION_ENDED',
          message: 'The session has ended; sign in again',
        });
      }
    });

    it('keeps Retry-After on 503 and 429, and the CSRF reason', async () => {
      const down = await app.inject({ url: '/fail/store-down', headers: HTTPS });
      expect(down.statusCode).toBe(503);
      expect(down.headers['retry-after']).toBe('5');
      const tooMany = await app.inject({ url: '/fail/too-many', headers: HTTPS });
      expect(tooMany.statusCode).toBe(429);
      expect(tooMany.headers['retry-after']).toBe('42');
      const csrf = await app.inject({ url: '/fail/csrf', headers: HTTPS });
      expect(csrf.json()).toMatchObject({ error: 'ERR_CSRF', reason: 'token-missing' });
    });

    it("throws any other error on to Fastify's default handler (500)", async () => {
      const response = await app.inject({ url: '/fail/plain', headers: HTTPS });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'not ours',
      });
    });
  });

  describe("errors: 'negotiate'", () => {
    let app: FastifyInstance;
    beforeAll(async () => (app = await start({ errors: 'negotiate' })));
    afterAll(() => app.close());

    it('answers a browser with a minimal HTML page: the status and a plain message', async () => {
      const response = await app.inject({
        url: '/fail/csrf?download',
        headers: { ...HTTPS, accept: BROWSER_ACCEPT },
      });
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['content-disposition']).toBeUndefined();
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers.vary).toBe('Cookie, Accept');
      expect(response.body).toMatch(/^<!doctype html>/);
      expect(response.body).toContain('<title>403 Forbidden</title>');
      expect(response.body).toContain('This form has expired or was sent from another site.');
      expect(response.body).not.toContain('token-missing');
    });

    it('never shows the error message, markup from it or a stack on the page', async () => {
      const response = await app.inject({
        url: '/fail/internal',
        headers: { ...HTTPS, accept: BROWSER_ACCEPT },
      });
      expect(response.statusCode).toBe(500);
      expect(response.body).toContain('<h1>500 Internal Server Error</h1>');
      for (const leak of ['<script>', 'alert', 'c2VjcmV0', 'key=', 'at ', '.ts:'])
        expect(response.body).not.toContain(leak);
    });

    it('keeps Retry-After on the 503 and 429 pages', async () => {
      const headers = { ...HTTPS, accept: BROWSER_ACCEPT };
      const down = await app.inject({ url: '/fail/store-down', headers });
      expect([down.statusCode, down.headers['retry-after']]).toEqual([503, '5']);
      expect(down.body).toContain('<h1>503 Service Unavailable</h1>');
      const tooMany = await app.inject({ url: '/fail/too-many', headers });
      expect([tooMany.statusCode, tooMany.headers['retry-after']]).toEqual([429, '42']);
    });

    it('answers fetch, API clients and requests without Accept with JSON labelled as JSON', async () => {
      for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
        const response = await app.inject({
          url: '/fail/too-many',
          headers: accept === undefined ? HTTPS : { ...HTTPS, accept },
        });
        expect(response.statusCode, accept).toBe(429);
        expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(response.headers.vary).toBe('Cookie, Accept');
        expect(response.json()).toMatchObject({ error: 'ERR_TOO_MANY_REQUESTS' });
      }
    });
  });

  it("hands other errors to the parent scope's error handler", async () => {
    const auth = fastifySessions(createManager());
    const app = createApp();
    const seen: unknown[] = [];
    app.setErrorHandler((error, _request, reply) => {
      seen.push(error);
      return reply.code(418).send({ parent: true });
    });
    await app.register(async (scope) => {
      await scope.register(auth.plugin);
      scope.setErrorHandler(auth.errorHandler);
      scope.get('/plain', () => {
        throw ERRORS.plain!();
      });
      scope.get('/csrf', () => {
        throw ERRORS.csrf!();
      });
    });
    const plain = await app.inject({ url: '/plain', headers: HTTPS });
    expect([plain.statusCode, plain.json()]).toEqual([418, { parent: true }]);
    expect(seen).toEqual([expect.objectContaining({ message: 'not ours' })]);
    const csrf = await app.inject({ url: '/csrf', headers: HTTPS });
    expect(csrf.json()).toMatchObject({ error: 'ERR_CSRF' });
    expect(seen).toHaveLength(1);
    await app.close();
  });

  it("without auth.errorHandler, Fastify's default handler still answers with the error's status", async () => {
    const auth = fastifySessions(createManager({ csrf: { origins: [TEST_ORIGIN] } }));
    const app = createApp();
    await app.register(auth.plugin);
    app.post('/note', () => 'never');
    const response = await app.inject({ method: 'POST', url: '/note', headers: SAME_ORIGIN });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'ERR_CSRF' });
    await app.close();
  });

  it('refuses an unknown errors mode', () => {
    expect(() => fastifySessions(createManager(), { errors: 'html' as 'json' })).toThrow(
      /fastifySessions: errors must be "json" or "negotiate"/,
    );
  });
});

describe('Fastify requireUser', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    const auth = fastifySessions(createManager());
    app = createApp();
    await app.register(auth.plugin);
    app.setErrorHandler(auth.errorHandler);
    app.post('/login', async (request, reply) => {
      await auth.session(request).login('alice');
      return reply.code(204).send();
    });
    const ok = (request: Parameters<typeof auth.session>[0]) => ({
      user: auth.session(request).userId,
    });
    app.get('/account', { preHandler: auth.requireUser() }, ok);
    app.post('/account', { preHandler: [auth.requireUser()] }, ok);
    app.get('/custom', { preHandler: auth.requireUser({ loginPath: '/signin?via=guard' }) }, ok);
    app.get('/quiet', { preHandler: auth.requireUser({ returnTo: 'omit' }) }, ok);
    // A typed route takes the guard too.
    app.get<{ Querystring: { tab?: string } }>(
      '/typed',
      { preHandler: auth.requireUser() },
      (request) => ({ tab: request.query.tab ?? null }),
    );
    await app.register(
      (api, _options, done) => {
        api.addHook('preHandler', auth.requireUser());
        api.get('/users', ok);
        done();
      },
      { prefix: '/api' },
    );
    // The guard in a scope without the plugin: a setup mistake, answered as such.
    await app.register((bare, _options, done) => {
      const other = fastifySessions(createManager());
      bare.get('/unguarded', { preHandler: other.requireUser() }, () => 'never');
      done();
    });
  });
  afterAll(() => app.close());

  async function signIn(): Promise<string> {
    return sessionCookie(await app.inject({ method: 'POST', url: '/login', headers: HTTPS }))!;
  }

  it('lets a signed-in user through', async () => {
    const cookie = await signIn();
    for (const url of ['/account', '/custom', '/api/users']) {
      const response = await app.inject({
        url,
        headers: { ...HTTPS, cookie, accept: BROWSER_ACCEPT },
      });
      expect(response.statusCode, url).toBe(200);
      expect(response.json()).toEqual({ user: 'alice' });
    }
  });

  it('[SM-48] sends a browser to the login page with 303 and the path it asked for, uncached', async () => {
    const response = await app.inject({
      url: '/account?tab=keys&x=1',
      headers: { ...HTTPS, accept: BROWSER_ACCEPT },
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(
      `/login?returnTo=${encodeURIComponent('/account?tab=keys&x=1')}`,
    );
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers.vary).toBe('Cookie, Accept');
  });

  it('answers fetch, API clients and requests without Accept with 401 JSON ERR_UNAUTHENTICATED', async () => {
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
      const response = await app.inject({
        url: '/api/users',
        headers: accept === undefined ? HTTPS : { ...HTTPS, accept },
      });
      expect(response.statusCode, accept).toBe(401);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers.vary).toBe('Cookie, Accept');
      expect(response.json()).toEqual({
        error: 'ERR_UNAUTHENTICATED',
        message: 'Sign in to continue',
      });
    }
  });

  it('keeps the plugin prefix in returnTo, appends to a login path with a query, omits when asked', async () => {
    const headers = { ...HTTPS, accept: BROWSER_ACCEPT };
    const prefixed = await app.inject({ url: '/api/users', headers });
    expect(prefixed.headers.location).toBe('/login?returnTo=%2Fapi%2Fusers');
    const custom = await app.inject({ url: '/custom', headers });
    expect(custom.headers.location).toBe('/signin?via=guard&returnTo=%2Fcustom');
    const quiet = await app.inject({ url: '/quiet', headers });
    expect(quiet.headers.location).toBe('/login');
    const typed = await app.inject({ url: '/typed?tab=1', headers });
    expect(typed.headers.location).toBe('/login?returnTo=%2Ftyped%3Ftab%3D1');
  });

  it('never carries returnTo on an unsafe method', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/account',
      headers: { ...HTTPS, accept: BROWSER_ACCEPT },
    });
    expect([response.statusCode, response.headers.location]).toEqual([303, '/login']);
  });

  it('answers a guard whose plugin is not registered with a clear setup error', async () => {
    const response = await app.inject({ url: '/unguarded', headers: HTTPS });
    expect(response.statusCode).toBe(500);
    const { error, message } = response.json<{ error: string; message: string }>();
    expect(error).toBe('ERR_INVALID_ARGUMENT');
    expect(message).toMatch(/register auth\.plugin/);
  });

  it('refuses a login path off this site', () => {
    const auth = fastifySessions(createManager());
    expect(() => auth.requireUser({ loginPath: 'https://evil.example/login' })).toThrow(
      /loginPath must be a path on this site/,
    );
  });
});

describe('Fastify: a form body that no parser put in request.body', () => {
  const warnings = captureWarnings();
  let app: FastifyInstance;
  const HINT = /register a content-type parser that puts the form's fields in request\.body/;

  // A fresh adapter per test: each warns at most once.
  beforeEach(async () => {
    const auth = fastifySessions(createManager({ csrf: { origins: [TEST_ORIGIN] } }));
    app = createApp();
    await app.register(auth.plugin);
    app.setErrorHandler(auth.errorHandler);
    await app.register(async (scope) => {
      await scope.register(formbody);
      scope.post('/parsed', async (_request, reply) => reply.code(204).send());
    });
    await app.register((scope, _options, registered) => {
      // What @fastify/multipart does without attachFieldsToBody: the fields stay in the stream.
      scope.addContentTypeParser('multipart/form-data', (_request, payload, done) => {
        payload.resume();
        payload.on('end', () => done(null));
      });
      // A parser that hands the form on as text.
      scope.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => {
        done(null, body);
      });
      scope.post('/unparsed', async (_request, reply) => reply.code(204).send());
      registered();
    });
    app.post('/none', async (_request, reply) => reply.code(204).send());
  });

  const post = async (url: string, headers: Record<string, string>, payload: string) => {
    const response = await app.inject({ method: 'POST', url, headers, payload });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  };

  it('says how to have the body parsed; the reason stays token-missing; warns once', async () => {
    const multipart = { ...SAME_ORIGIN, 'content-type': 'multipart/form-data; boundary=x' };
    const form = { ...SAME_ORIGIN, 'content-type': FORM };
    for (const [headers, payload] of [
      [multipart, '--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\nabc\r\n--x--\r\n'],
      [form, '_csrf=whatever&note=hi'],
    ] as const) {
      const response = await post('/unparsed', headers, payload);
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ error: 'ERR_CSRF', reason: 'token-missing' });
      expect(response.body.message).toMatch(HINT);
      expect(response.body.message).toMatch(/@fastify\/multipart with attachFieldsToBody/);
    }
    expect(warnings('STRONGROOM_BODY_NOT_PARSED')).toEqual([expect.stringMatching(HINT)]);
  });

  it('keeps the plain message when the body was parsed, or a token header was sent', async () => {
    for (const [url, headers] of [
      ['/parsed', { ...SAME_ORIGIN, 'content-type': FORM }],
      ['/unparsed', { ...SAME_ORIGIN, 'content-type': FORM, 'x-csrf-token': '' }],
    ] as const) {
      const response = await post(url, headers, 'note=hi');
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        error: 'ERR_CSRF',
        reason: 'token-missing',
        message: 'Cross-site request forgery check failed: token-missing',
      });
    }
    expect(warnings('STRONGROOM_BODY_NOT_PARSED')).toEqual([]);
  });

  it('has nothing to explain without a parser: Fastify answers 415 before the plugin runs', async () => {
    const response = await post('/none', { ...SAME_ORIGIN, 'content-type': FORM }, '_csrf=x');
    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
    expect(warnings('STRONGROOM_BODY_NOT_PARSED')).toEqual([]);
  });
});
