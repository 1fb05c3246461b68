import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  CSRFError,
  InsecureTransportError,
  InvalidArgumentError,
  isStrongroomError,
  ReauthenticationRequiredError,
  SessionEndedError,
  SessionLimitError,
  StoreConflictError,
  StoreUnavailableError,
  StrongroomError,
  TooManyRequestsError,
  type AnyStrongroomError,
  type StrongroomErrorCode,
} from '../../src/core/errors.js';

/** One instance of every class, with the code and status it must carry. */
const table: readonly [AnyStrongroomError, StrongroomErrorCode, number][] = [
  [new ConfigError([{ path: 'keys', message: 'is required' }]), 'ERR_CONFIG', 500],
  [new StoreUnavailableError('insert'), 'ERR_STORE_UNAVAILABLE', 503],
  [new StoreConflictError('session id'), 'ERR_STORE_CONFLICT', 409],
  [new SessionEndedError(), 'ERR_SESSION_ENDED', 401],
  [new ReauthenticationRequiredError(), 'ERR_REAUTHENTICATION_REQUIRED', 401],
  [new InsecureTransportError(), 'ERR_INSECURE_TRANSPORT', 403],
  [new CSRFError('cross-site'), 'ERR_CSRF', 403],
  [new SessionLimitError(), 'ERR_SESSION_LIMIT', 409],
  [new TooManyRequestsError(30), 'ERR_TOO_MANY_REQUESTS', 429],
  [new InvalidArgumentError('not a session id'), 'ERR_INVALID_ARGUMENT', 500],
];
const every = table.map(([error, code, status]) => ({ name: error.name, error, code, status }));

/** What another copy of the package (the CommonJS build beside the ESM one) throws. */
class ForeignStrongroomError extends Error {
  readonly code = 'ERR_CSRF';
  readonly status = 403;
  readonly reason = 'cross-site';
}
Object.defineProperty(ForeignStrongroomError.prototype, Symbol.for('strongroom.error'), {
  value: true,
});

describe('StrongroomError', () => {
  it.each(every)(
    '$name has its stable code, status, statusCode and class name',
    ({ error, code, status }) => {
      expect(error).toBeInstanceOf(StrongroomError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.status).toBe(status);
      expect(error.statusCode).toBe(status);
      expect(error.name).toBe(error.constructor.name);
    },
  );

  it('every code has exactly one class', () => {
    expect(new Set(every.map(({ code }) => code)).size).toBe(every.length);
  });

  it('keeps its messages', () => {
    expect(new ConfigError([{ path: 'cookie.sameSite', message: 'bad' }]).message).toBe(
      'Invalid Strongroom configuration:\n  - cookie.sameSite: bad',
    );
    expect(new StoreUnavailableError('insert').message).toBe(
      'Session store unavailable during insert',
    );
    expect(new StoreConflictError('token hash').message).toBe(
      'Session store already holds this token hash',
    );
    expect(new CSRFError('token-missing').message).toBe(
      'Cross-site request forgery check failed: token-missing',
    );
  });

  it('keeps the cause it was given', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new StoreUnavailableError('findById', { cause }).cause).toBe(cause);
  });
});

describe('isStrongroomError', () => {
  it.each(every)('recognises a $name, by its own code and no other', ({ error, code }) => {
    expect(isStrongroomError(error)).toBe(true);
    expect(isStrongroomError(error, code)).toBe(true);
    for (const { code: other } of every)
      if (other !== code) expect(isStrongroomError(error, other)).toBe(false);
  });

  it('recognises the base class constructed directly', () => {
    const error = new StrongroomError('ERR_SESSION_ENDED', 401, 'ended');
    expect(isStrongroomError(error, 'ERR_SESSION_ENDED')).toBe(true);
  });

  it('recognises an error of another copy of the package, which instanceof does not', () => {
    const foreign = new ForeignStrongroomError('Cross-site request forgery check failed');
    expect(foreign).not.toBeInstanceOf(StrongroomError);
    expect(isStrongroomError(foreign)).toBe(true);
    expect(isStrongroomError(foreign, 'ERR_CSRF')).toBe(true);
    expect(isStrongroomError(foreign, 'ERR_CONFIG')).toBe(false);
  });

  it.each([
    ['an Error', new Error('ERR_CSRF')],
    ['an error with a Strongroom code', Object.assign(new Error('x'), { code: 'ERR_CSRF' })],
    ['a look-alike object', { name: 'CSRFError', code: 'ERR_CSRF', status: 403 }],
    ['a string code', 'ERR_CSRF'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 403],
  ])('rejects %s', (_, value) => {
    expect(isStrongroomError(value)).toBe(false);
    expect(isStrongroomError(value, 'ERR_CSRF')).toBe(false);
  });

  it('marks errors on the prototype: nothing new among own keys, in JSON or in logs', () => {
    const error = new CSRFError('cross-site');
    expect(Reflect.ownKeys(error).map(String).sort()).toEqual([
      'code',
      'message',
      'name',
      'reason',
      'stack',
      'status',
    ]);
    expect(JSON.stringify(error)).toBe(
      '{"code":"ERR_CSRF","status":403,"name":"CSRFError","reason":"cross-site"}',
    );
  });

  it('narrows to the class of the code, so its own fields need no cast', () => {
    const error: unknown = new TooManyRequestsError(12);
    if (!isStrongroomError(error, 'ERR_TOO_MANY_REQUESTS')) throw new Error('not recognised');
    expect(error.retryAfterSeconds).toBe(12);
  });

  it('narrows a caught error to the union, which a switch on the code narrows further', () => {
    const describe = (value: unknown): string => {
      if (!isStrongroomError(value)) return 'other';
      switch (value.code) {
        case 'ERR_CSRF':
          return value.reason;
        case 'ERR_CONFIG':
          return value.problems.map((problem) => problem.path).join();
        default:
          return value.code;
      }
    };
    expect(describe(new CSRFError('origin-null'))).toBe('origin-null');
    expect(describe(new ConfigError([{ path: 'keys', message: 'x' }]))).toBe('keys');
    expect(describe(new SessionEndedError())).toBe('ERR_SESSION_ENDED');
    expect(describe(new Error('x'))).toBe('other');
  });
});
