import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  createSessionManager,
  parseKeyList,
  resolveConfig,
  type SessionManagerOptions,
} from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY } from '../support/harness.js';

const base = (): SessionManagerOptions => ({
  store: createMemoryStore(),
  keys: [TEST_KEY],
  csrf: { origins: ['https://app.test'] },
});

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
