import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expressSession } from '../../src/adapters/express-session.js';
import { ConfigError, type ConfigProblem } from '../../src/core/errors.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';

const BASE = { store: createMemoryStore(), keys: [TEST_KEY], csrf: { origins: [TEST_ORIGIN] } };

/** The problems a configuration is refused with (none: it was accepted). */
function problemsOf(options: Record<string, unknown>): readonly ConfigProblem[] {
  try {
    expressSession({ ...BASE, ...options });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

function refusal(options: Record<string, unknown>, path: string): string {
  const problem = problemsOf(options).find((candidate) => candidate.path === path);
  if (problem === undefined) throw new Error(`${path} was not refused`);
  return problem.message;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('expressSession() options: what express-session allowed and Strongroom refuses', () => {
  it('accepts the options of express-session’s README that are safe', () => {
    expect(
      problemsOf({
        name: 'app.sid',
        resave: false,
        saveUninitialized: false,
        rolling: true,
        unset: 'destroy',
        cookie: { httpOnly: true, secure: true, sameSite: 'strict', path: '/', maxAge: 600_000 },
      }),
    ).toEqual([]);
  });

  it('refuses secret, with where encryption keys go instead', () => {
    expect(refusal({ secret: 'keyboard cat' }, 'secret')).toMatch(/keys.*strongroom keygen/);
  });

  it('[SM-15] refuses genid: ids are never chosen by the app', () => {
    expect(refusal({ genid: () => 'fixed' }, 'genid')).toMatch(/always random/);
  });

  it('[SM-44] refuses proxy, pointing at Express’s trust proxy', () => {
    expect(refusal({ proxy: true }, 'proxy')).toMatch(/trust proxy/);
  });

  it('[SM-31] refuses resave: true (it overwrites concurrent writes)', () => {
    expect(refusal({ resave: true }, 'resave')).toMatch(/concurrent/);
  });

  it('refuses saveUninitialized: true (a session for every visitor)', () => {
    expect(refusal({ saveUninitialized: true }, 'saveUninitialized')).toMatch(/every visitor/);
  });

  it('[SM-22] refuses a cookie.maxAge longer than the absolute timeout: rolling never outlives it', () => {
    const message = refusal({ cookie: { maxAge: 30 * 24 * 3600 * 1000 } }, 'cookie.maxAge');
    expect(message).toMatch(/30 d is longer than the absolute timeout \(12 h\)/);
    expect(message).toMatch(/absoluteTimeoutSeconds to at least 2592000/);
    expect(
      problemsOf({
        cookie: { maxAge: 30 * 24 * 3600 * 1000 },
        absoluteTimeoutSeconds: 30 * 24 * 3600,
      }),
    ).toEqual([]);
  });

  it('refuses cookie.maxAge together with idleTimeoutSeconds, and a maxAge that is not milliseconds', () => {
    expect(
      refusal({ cookie: { maxAge: 60_000 }, idleTimeoutSeconds: 60 }, 'cookie.maxAge'),
    ).toMatch(/either/);
    expect(refusal({ cookie: { maxAge: 5 } }, 'cookie.maxAge')).toMatch(/milliseconds/);
  });

  it('[SM-06] refuses cookie.secure false or auto while NODE_ENV is production', () => {
    vi.stubEnv('NODE_ENV', 'production');
    expect(refusal({ cookie: { secure: false } }, 'cookie.secure')).toMatch(/production/);
    expect(refusal({ cookie: { secure: 'auto' } }, 'cookie.secure')).toMatch(/production/);
    expect(problemsOf({ cookie: { secure: true } })).toEqual([]);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    expect(problemsOf({ cookie: { secure: 'allow-http-development' } })).toEqual([]);
    warn.mockRestore();
  });

  it('allows cookie.secure: false outside production, for http://localhost', () => {
    vi.stubEnv('NODE_ENV', 'development');
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    expect(problemsOf({ cookie: { secure: false } })).toEqual([]);
    warn.mockRestore();
  });

  it('[SM-08] refuses cookie.httpOnly: false', () => {
    expect(refusal({ cookie: { httpOnly: false } }, 'cookie.httpOnly')).toMatch(/HttpOnly/);
  });

  it('[SM-07] refuses cookie.domain and a cookie.path other than /', () => {
    expect(refusal({ cookie: { domain: 'example.com' } }, 'cookie.domain')).toMatch(/__Host-/);
    expect(refusal({ cookie: { path: '/app' } }, 'cookie.path')).toMatch(/__Host-/);
  });

  it('[SM-09] refuses cookie.sameSite: false; true means strict', () => {
    expect(refusal({ cookie: { sameSite: false } }, 'cookie.sameSite')).toMatch(/always set/);
    expect(problemsOf({ cookie: { sameSite: true } })).toEqual([]);
  });

  it('refuses cookie.expires, pointing at maxAge', () => {
    expect(refusal({ cookie: { expires: new Date() } }, 'cookie.expires')).toMatch(/maxAge/);
  });

  it('refuses an express-session store (it would key sessions by their raw id)', () => {
    const { MemoryStore } = createRequire(import.meta.url)('express-session') as {
      MemoryStore: new () => object;
    };
    expect(refusal({ store: new MemoryStore() }, 'store')).toMatch(
      /express-session store.*createRedisStore/,
    );
  });

  it('reports every problem at once, the manager’s own among them', () => {
    const paths = problemsOf({
      secret: 's',
      resave: true,
      idleTimeoutSeconds: -1,
      cookie: { httpOnly: false },
    }).map((problem) => problem.path);
    expect(paths).toEqual(
      expect.arrayContaining(['secret', 'resave', 'idleTimeoutSeconds', 'cookie.httpOnly']),
    );
  });

  it('refuses currentCredential (logins come from the data, without the credential)', () => {
    expect(refusal({ currentCredential: () => 'x' }, 'currentCredential')).toMatch(
      /strongroom\/express/,
    );
  });
});
