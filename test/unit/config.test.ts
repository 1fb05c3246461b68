import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  createSessionManager,
  parseKeyList,
  type SessionManagerOptions,
} from '../../src/index.js';
import { resolveConfig } from '../../src/core/config.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY } from '../support/harness.js';

const base = (): SessionManagerOptions => ({
  store: createMemoryStore(),
  keys: [TEST_KEY],
  csrf: { origins: ['https://app.test'] },
});

/** The problems of a configuration, as `{ path, message }`. */
function described(options: unknown): { path: string; message: string }[] {
  try {
    resolveConfig(options as SessionManagerOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map(({ path, message }) => ({ path, message }));
  }
  return [];
}

function problems(options: unknown): string[] {
  try {
    resolveConfig(options as SessionManagerOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.path);
  }
  return [];
}

describe('resolveConfig', () => {
  it('fills in documented defaults', () => {
    const config = resolveConfig(base());
    expect(config).toMatchObject({
      idleTimeoutMs: 1_800_000,
      absoluteTimeoutMs: 43_200_000,
      touchIntervalMs: 60_000,
      rotationIntervalMs: 900_000,
      rotationGraceMs: 30_000,
      freshAgeMs: 600_000,
      theftPolicy: 'revoke',
      cookieName: 'sid',
      sameSite: 'Lax',
      allowInsecureHttp: false,
    });
  });

  it('scales the default touch interval down for short idle timeouts', () => {
    expect(resolveConfig({ ...base(), idleTimeoutSeconds: 4 }).touchIntervalMs).toBe(1000);
    expect(resolveConfig({ ...base(), idleTimeoutSeconds: 1 }).touchIntervalMs).toBe(0);
  });

  it('reports every problem at once, with paths', () => {
    expect(
      problems({
        idleTimeoutSeconds: 1.5,
        absoluteTimeoutSeconds: -1,
        rotationGraceSeconds: '30',
        theftPolicy: 'ignore',
        cookie: { name: 'a b', sameSite: 'sometimes', secure: 'never' },
      }),
    ).toEqual([
      'store',
      'keys',
      'idleTimeoutSeconds',
      'absoluteTimeoutSeconds',
      'rotationGraceSeconds',
      'theftPolicy',
      'cookie.name',
      'cookie.sameSite',
      'cookie.secure',
      'csrf.origins',
    ]);
  });

  it('asks for a key and says how to make one', () => {
    expect(() => createSessionManager({ ...base(), keys: [] })).toThrow(/npx strongroom keygen/);
  });

  it.each([
    ['too short', { id: 'k', secret: Buffer.alloc(16, 1).toString('base64url') }],
    ['placeholder', { id: 'k', secret: Buffer.alloc(32, 0).toString('base64url') }],
    ['not base64', { id: 'k', secret: 'this is not a key but it is long enough to pass length!!' }],
    ['bad id', { id: 'has space', secret: TEST_KEY.secret }],
  ])('rejects a key that is %s', (_name, key) => {
    expect(problems({ ...base(), keys: [key] }).length).toBe(1);
  });

  it('rejects duplicate key ids', () => {
    expect(problems({ ...base(), keys: [TEST_KEY, TEST_KEY] })).toEqual(['keys[1].id']);
  });

  it('[SM-09] refuses SameSite=None unless cross-site use is opted into', () => {
    expect(problems({ ...base(), cookie: { sameSite: 'none' } })).toEqual(['cookie.sameSite']);
    expect(
      resolveConfig({ ...base(), cookie: { sameSite: 'none', crossSite: 'allow' } }).sameSite,
    ).toBe('None');
  });

  it('[SM-03] refuses fingerprinting cookie names and manual prefixes', () => {
    for (const name of ['connect.sid', 'JSESSIONID', 'PHPSESSID', '__Host-sid', '__secure-x']) {
      expect(problems({ ...base(), cookie: { name } }), name).toEqual(['cookie.name']);
    }
  });

  it('refuses inconsistent timeouts', () => {
    expect(problems({ ...base(), idleTimeoutSeconds: 100, absoluteTimeoutSeconds: 50 })).toEqual([
      'absoluteTimeoutSeconds',
    ]);
    expect(problems({ ...base(), idleTimeoutSeconds: 60, touchIntervalSeconds: 60 })).toEqual([
      'touchIntervalSeconds',
    ]);
  });

  it('never mutates its input', () => {
    const options = Object.freeze({ ...base(), cookie: Object.freeze({ name: 'app' }) });
    expect(() => resolveConfig(options)).not.toThrow();
    expect(options.cookie).toEqual({ name: 'app' });
  });

  it('warns when plain-HTTP development cookies are allowed', () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      createSessionManager({ ...base(), cookie: { secure: 'allow-http-development' } });
      expect(emitWarning).toHaveBeenCalledWith(expect.stringContaining('allow-http-development'));
    } finally {
      emitWarning.mockRestore();
    }
  });
});

describe('parseKeyList', () => {
  it('reads id:secret pairs, first one active', () => {
    expect(parseKeyList(` new:${TEST_KEY.secret} , old:abc,`)).toEqual([
      { id: 'new', secret: TEST_KEY.secret },
      { id: 'old', secret: 'abc' },
    ]);
    expect(parseKeyList('')).toEqual([]);
  });

  const parseProblems = (value: unknown): { path: string; message: string }[] => {
    try {
      parseKeyList(value as string);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).not.toContain(TEST_KEY.secret);
      return (error as ConfigError).problems.map(({ path, message }) => ({ path, message }));
    }
    throw new Error('parseKeyList accepted it');
  };
  const form = 'expected "id:secret,id:secret" (each entry as `npx strongroom keygen` prints it)';

  it('refuses an entry without an id, naming its position and never its secret', () => {
    expect(parseProblems(TEST_KEY.secret)).toEqual([
      {
        path: 'keys',
        message: `entry 1 of 1 of the key list has no "id:" before its secret; ${form}`,
      },
    ]);
    expect(parseProblems(`new:${TEST_KEY.secret},${TEST_KEY.secret}`)).toEqual([
      {
        path: 'keys',
        message: `entry 2 of 2 of the key list has no "id:" before its secret; ${form}`,
      },
    ]);
  });

  it('refuses empty ids and secrets, every entry at once', () => {
    expect(parseProblems(`:${TEST_KEY.secret}, k2: ,k3:${TEST_KEY.secret}`)).toEqual([
      { path: 'keys', message: `entry 1 of 3 of the key list has an empty id; ${form}` },
      { path: 'keys', message: `entry 2 of 3 of the key list has an empty secret; ${form}` },
    ]);
  });

  it('says when the variable is not set at all', () => {
    expect(parseProblems(undefined)).toEqual([
      {
        path: 'keys',
        message:
          'parseKeyList was given undefined (is the variable set?); expected "id:secret,id:secret"; generate one with `npx strongroom keygen`',
      },
    ]);
  });
});

describe('keys given in the wrong form (issue 9)', () => {
  const forms =
    'pass keys: parseKeyList(process.env.STRONGROOM_KEYS) for an "id:secret,id:secret" variable, or [{ id, secret }]; generate one with `npx strongroom keygen`';

  it('a string (the raw environment variable) names parseKeyList and the array form, without echoing it', () => {
    const keys = `k1:${TEST_KEY.secret}`;
    expect(described({ ...base(), keys })).toEqual([
      { path: 'keys', message: `expected an array of keys, not a string; ${forms}` },
    ]);
  });

  it('a single key object is told to be wrapped in an array', () => {
    expect(described({ ...base(), keys: TEST_KEY })).toEqual([
      { path: 'keys', message: `expected an array of keys: wrap the key in [ ]; ${forms}` },
    ]);
  });

  it('an "id:secret" string inside the array points to parseKeyList', () => {
    expect(described({ ...base(), keys: [`k1:${TEST_KEY.secret}`] })).toEqual([
      {
        path: 'keys[0]',
        message: 'expected { id, secret }; for "id:secret" strings, use parseKeyList(value)',
      },
    ]);
  });

  it('an empty list hints at an empty variable', () => {
    expect(described({ ...base(), keys: [] })).toEqual([
      {
        path: 'keys',
        message: `at least one encryption key is required (the list is empty: is the environment variable empty?); ${forms}`,
      },
    ]);
    expect(described({ ...base(), keys: undefined })).toEqual([
      { path: 'keys', message: `at least one encryption key is required; ${forms}` },
    ]);
  });
});

describe('unknown options are refused, with a hint (issue 9)', () => {
  const persistent =
    "not a Strongroom option; lifetimes are idleTimeoutSeconds and absoluteTimeoutSeconds (whole seconds, enforced on the server); for a cookie that survives a browser restart, call login(userId, { cookie: 'persistent' })";
  const proxy =
    "not a Strongroom option; set trust proxy in your framework instead (Express: app.set('trust proxy', …)): the adapter then reports HTTPS and the client address";

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'express-session secret',
      { secret: 'keyboard cat' },
      'secret',
      'not a Strongroom option; did you mean keys? Data at rest is encrypted under keys: parseKeyList(process.env.STRONGROOM_KEYS) or [{ id, secret }]; generate one with `npx strongroom keygen`',
    ],
    [
      'express-session name',
      { name: 'app' },
      'name',
      'not a Strongroom option; did you mean cookie.name?',
    ],
    [
      'idleTimeout',
      { idleTimeout: 1800 },
      'idleTimeout',
      'not a Strongroom option; did you mean idleTimeoutSeconds? (whole seconds)',
    ],
    ['maxAge', { maxAge: 60_000 }, 'maxAge', persistent],
    ['cookie.maxAge', { cookie: { maxAge: 60_000 } }, 'cookie.maxAge', persistent],
    ['cookie.expires', { cookie: { expires: new Date() } }, 'cookie.expires', persistent],
    [
      'resave',
      { resave: false },
      'resave',
      'not a Strongroom option; not needed: the store is written when you await a change (set, login, …), never behind your back',
    ],
    [
      'saveUninitialized',
      { saveUninitialized: false },
      'saveUninitialized',
      'not a Strongroom option; not needed: nothing is stored until the app writes to the session or logs in',
    ],
    [
      'rolling',
      { rolling: true },
      'rolling',
      'not a Strongroom option; not needed: the idle deadline is extended on use (see touchIntervalSeconds)',
    ],
    [
      'genid',
      { genid: () => 'id' },
      'genid',
      'not a Strongroom option; not supported: session ids are always random',
    ],
    ['proxy', { proxy: true }, 'proxy', proxy],
    [
      'cookie.httpOnly',
      { cookie: { httpOnly: false } },
      'cookie.httpOnly',
      'not a Strongroom option; not configurable: session cookies are always HttpOnly',
    ],
    [
      'cookie.domain',
      { cookie: { domain: 'app.test' } },
      'cookie.domain',
      'not a Strongroom option; not configurable: the __Host- prefix requires Path=/ and no Domain (SM-07)',
    ],
    [
      'a typo',
      { idleTimoutSeconds: 60 },
      'idleTimoutSeconds',
      'not a Strongroom option; did you mean idleTimeoutSeconds?',
    ],
    [
      'the wrong case',
      { theftpolicy: 'log' },
      'theftpolicy',
      'not a Strongroom option; did you mean theftPolicy?',
    ],
    [
      'milliseconds',
      { idleTimeoutMs: 1_800_000 },
      'idleTimeoutMs',
      'not a Strongroom option; did you mean idleTimeoutSeconds? (whole seconds)',
    ],
    [
      'a cookie option at the top level',
      { sameSite: 'strict' },
      'sameSite',
      'not a Strongroom option; did you mean cookie.sameSite?',
    ],
    [
      'a csrf option at the top level',
      { origin: 'https://app.test' },
      'origin',
      'not a Strongroom option; did you mean csrf.origins?',
    ],
    [
      'a typo in csrf',
      { csrf: { origins: ['https://app.test'], trustedOrigin: ['https://sib.app.test'] } },
      'csrf.trustedOrigin',
      'not a Strongroom option; did you mean trustedOrigins?',
    ],
    [
      'a typo in unknownTokenLimit',
      { unknownTokenLimit: { perClient: 5, window: 60 } },
      'unknownTokenLimit.window',
      'not a Strongroom option; did you mean windowSeconds? (whole seconds)',
    ],
    [
      'a typo in runtime',
      { runtime: { clock: () => 1 } },
      'runtime.clock',
      'not a Strongroom option; known here: now, randomBytes',
    ],
    [
      'an unknown field of a key',
      { keys: [{ ...TEST_KEY, algorithm: 'aes' }] },
      'keys[0].algorithm',
      'not a field of a key; known here: id, secret',
    ],
    [
      'anything else',
      { banana: 1 },
      'banana',
      'not a Strongroom option; known here: store, keys, idleTimeoutSeconds, absoluteTimeoutSeconds, touchIntervalSeconds, rotationIntervalSeconds, rotationGraceSeconds, theftPolicy, freshAgeSeconds, maxSessionsPerUser, sessionLimitPolicy, currentCredential, clientBinding, unknownTokenLimit, cookie, csrf, runtime',
    ],
  ])('refuses %s', (_name, options, path, message) => {
    expect(described({ ...base(), ...options })).toEqual([{ path, message }]);
  });

  it('lists unknown options with every other problem, and never echoes a value', () => {
    const result = described({ ...base(), keys: [], secret: TEST_KEY.secret, resave: true });
    expect(result.map((p) => p.path)).toEqual(['secret', 'resave', 'keys']);
    expect(JSON.stringify(result)).not.toContain(TEST_KEY.secret);
  });

  it('accepts every known option, including ones explicitly undefined', () => {
    expect(
      described({
        ...base(),
        idleTimeoutSeconds: undefined,
        cookie: { name: 'app', sameSite: 'strict', crossSite: 'deny', secure: 'always' },
        csrf: { protection: 'enforce', origins: ['https://app.test'], trustedOrigins: [] },
        unknownTokenLimit: { perClient: 5, windowSeconds: 60 },
        runtime: { now: () => 1 },
      }),
    ).toEqual([]);
  });

  it('refuses object options that are not objects', () => {
    expect(described({ ...base(), csrf: false, cookie: 'sid', runtime: 1 })).toEqual([
      { path: 'runtime', message: 'expected an object with any of now, randomBytes' },
      {
        path: 'cookie',
        message: 'expected an object with any of name, sameSite, crossSite, secure',
      },
      {
        path: 'csrf',
        message:
          'expected an object with any of protection, origins, trustedOrigins; to turn the checks off, set csrf: { protection: "off" }',
      },
      {
        path: 'csrf.origins',
        message:
          'list the origins the app is served from, e.g. ["https://app.example"] (or set csrf.protection to "off")',
      },
    ]);
  });
});

describe('durations given in milliseconds (issue 9)', () => {
  it('names the idle timeout, in days, and the value in seconds', () => {
    expect(described({ ...base(), idleTimeoutSeconds: 1_800_000 })).toEqual([
      {
        path: 'idleTimeoutSeconds',
        message:
          'longer than absoluteTimeoutSeconds (43200 seconds, 12 hours): 1800000 seconds is 20.8 days; durations are in seconds — did you mean 1800?',
      },
    ]);
  });

  it('hints at seconds for the touch interval too', () => {
    expect(described({ ...base(), touchIntervalSeconds: 60_000 })).toEqual([
      {
        path: 'touchIntervalSeconds',
        message:
          'must be shorter than idleTimeoutSeconds (60000 ≥ 1800): 60000 seconds is 16.7 hours; durations are in seconds — did you mean 60?',
      },
    ]);
  });

  it('keeps the plain message for values in seconds that are merely inconsistent', () => {
    expect(described({ ...base(), idleTimeoutSeconds: 100, absoluteTimeoutSeconds: 50 })).toEqual([
      {
        path: 'absoluteTimeoutSeconds',
        message: 'must not be shorter than idleTimeoutSeconds (50 < 100)',
      },
    ]);
    expect(described({ ...base(), idleTimeoutSeconds: 60, touchIntervalSeconds: 60 })).toEqual([
      {
        path: 'touchIntervalSeconds',
        message: 'must be shorter than idleTimeoutSeconds (60 ≥ 60)',
      },
    ]);
  });
});

describe('runtime and the security options', () => {
  it.each([
    ['randomBytes of the wrong type', { randomBytes: 'x' }, 'runtime.randomBytes'],
    [
      'randomBytes returning too little',
      { randomBytes: () => new Uint8Array(1) },
      'runtime.randomBytes',
    ],
    ['randomBytes returning a string', { randomBytes: () => 'bytes' }, 'runtime.randomBytes'],
    ['now of the wrong type', { now: 5 }, 'runtime.now'],
    ['now returning NaN', { now: () => Number.NaN }, 'runtime.now'],
    ['now returning a Date', { now: () => new Date() }, 'runtime.now'],
  ])('rejects %s at start-up, not at the first write', (_name, runtime, path) => {
    expect(problems({ ...base(), runtime })).toEqual([path]);
  });

  it('accepts an injected clock and randomness of the right shape', () => {
    expect(
      problems({
        ...base(),
        runtime: { now: () => 1, randomBytes: (n: number) => new Uint8Array(n) },
      }),
    ).toEqual([]);
  });

  it.each([
    [{ maxSessionsPerUser: 0 }, 'maxSessionsPerUser'],
    [{ maxSessionsPerUser: 1.5 }, 'maxSessionsPerUser'],
    [{ maxSessionsPerUser: 2, sessionLimitPolicy: 'lru' }, 'sessionLimitPolicy'],
    [{ clientBinding: 'ip' }, 'clientBinding'],
    [{ currentCredential: 'hash' }, 'currentCredential'],
    [{ unknownTokenLimit: { perClient: 0, windowSeconds: 60 } }, 'unknownTokenLimit'],
    [{ unknownTokenLimit: 'on' }, 'unknownTokenLimit'],
  ])('rejects %j', (options, path) => {
    expect(problems({ ...base(), ...options })).toEqual([path]);
  });

  it('resolves the security options with their defaults', () => {
    expect(resolveConfig(base())).toMatchObject({
      sessionLimit: null,
      clientBinding: 'off',
      currentCredential: null,
      unknownTokenLimit: { perClient: 100, windowMs: 60_000 },
    });
    expect(
      resolveConfig({ ...base(), maxSessionsPerUser: 3, unknownTokenLimit: 'off' }),
    ).toMatchObject({ sessionLimit: { max: 3, policy: 'evict-oldest' }, unknownTokenLimit: null });
  });
});
