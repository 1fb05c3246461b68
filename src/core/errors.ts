import type { CSRFFailureReason } from '../csrf/reasons.js';

export type { CSRFFailureReason };

/**
 * Every error Strongroom throws is a {@link StrongroomError} with a stable `code` to switch on
 * and the HTTP `status` it implies. Messages never contain a token, a CSRF token or session data.
 * {@link StrongroomErrorByCode} pairs each code with the class it is thrown with.
 *
 * @example
 * ```ts
 * import { isStrongroomError } from 'strongroom/errors';
 *
 * try {
 *   await session.set('cart', cart);
 * } catch (error) {
 *   if (isStrongroomError(error, 'ERR_STORE_UNAVAILABLE')) {
 *     // fail closed: the adapters answer 503
 *   }
 *   throw error;
 * }
 * ```
 */
export type StrongroomErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_STORE_UNAVAILABLE'
  | 'ERR_STORE_CONFLICT'
  | 'ERR_SESSION_ENDED'
  | 'ERR_REAUTHENTICATION_REQUIRED'
  | 'ERR_INSECURE_TRANSPORT'
  | 'ERR_CSRF'
  | 'ERR_SESSION_LIMIT'
  | 'ERR_TOO_MANY_REQUESTS'
  | 'ERR_INVALID_ARGUMENT';

/**
 * Marks Strongroom errors for {@link isStrongroomError}. A registered symbol, so that two copies
 * of the package in one process (the ESM and the CommonJS build, or two versions) recognise each
 * other's errors, which `instanceof` cannot: each copy has its own classes.
 */
const BRAND = Symbol.for('strongroom.error');

/**
 * Base class of every Strongroom error.
 *
 * @example
 * ```ts
 * import { isStrongroomError } from 'strongroom/errors';
 *
 * app.use((error, req, res, next) => {
 *   if (!isStrongroomError(error)) return next(error);
 *   res.status(error.status).json({ error: error.code });
 * });
 * ```
 */
export class StrongroomError extends Error {
  /** A stable machine-readable code. */
  readonly code: StrongroomErrorCode;
  /** The HTTP status an adapter answers with when this error reaches it. */
  readonly status: number;

  constructor(code: StrongroomErrorCode, status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }

  /** Express and most Node frameworks read `statusCode` too. */
  get statusCode(): number {
    return this.status;
  }
}

// On the prototype, not enumerable: invisible to JSON.stringify, loggers and the error's own type.
Object.defineProperty(StrongroomError.prototype, BRAND, { value: true });

/**
 * One problem found while resolving the configuration.
 *
 * @example
 * ```ts
 * const problem: ConfigProblem = { path: 'cookie.sameSite', message: 'must be lax or strict' };
 * ```
 */
export interface ConfigProblem {
  /** Dotted path of the offending option, e.g. `cookie.sameSite`. */
  readonly path: string;
  readonly message: string;
}

/**
 * The configuration is unusable. Thrown at start-up, listing every problem at once.
 *
 * @example
 * ```ts
 * try {
 *   createSessionManager(options);
 * } catch (error) {
 *   if (isStrongroomError(error, 'ERR_CONFIG')) {
 *     for (const { path, message } of error.problems) console.error(`${path}: ${message}`);
 *   }
 *   throw error;
 * }
 * ```
 */
export class ConfigError extends StrongroomError {
  declare readonly code: 'ERR_CONFIG';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      'ERR_CONFIG',
      500,
      `Invalid Strongroom configuration:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

/**
 * The session store could not be reached or failed. Adapters answer 503: Strongroom fails closed.
 * A store rejects with it (or with any error, which the manager wraps in it).
 *
 * @example
 * ```ts
 * // in a store (import it from 'strongroom/store')
 * async findByTokenHash(tokenHash) {
 *   try {
 *     return await this.query(tokenHash);
 *   } catch (cause) {
 *     throw new StoreUnavailableError('findByTokenHash', { cause });
 *   }
 * }
 * ```
 */
export class StoreUnavailableError extends StrongroomError {
  declare readonly code: 'ERR_STORE_UNAVAILABLE';

  constructor(operation: string, options?: ErrorOptions) {
    super('ERR_STORE_UNAVAILABLE', 503, `Session store unavailable during ${operation}`, options);
  }
}

/**
 * The store refused a record because its session id or token hash is already taken by another
 * session. With 128-bit ids and 256-bit tokens this does not happen by chance: it points at a
 * broken random source or at someone writing to the store. Answered with 409, not 503: the
 * store is up and retrying the same record cannot help. Stores throw it from `insert`.
 *
 * @example
 * ```ts
 * // in a store's insert() (import it from 'strongroom/store')
 * if (await this.hasId(session.id)) throw new StoreConflictError('session id');
 * ```
 */
export class StoreConflictError extends StrongroomError {
  declare readonly code: 'ERR_STORE_CONFLICT';

  constructor(what: 'session id' | 'token hash', options?: ErrorOptions) {
    super('ERR_STORE_CONFLICT', 409, `Session store already holds this ${what}`, options);
  }
}

/**
 * The session was logged out, revoked or expired while this request was using it. The write
 * that noticed it is refused so that it cannot bring the session back (SM-31).
 *
 * @example
 * ```ts
 * try {
 *   await session.set('cart', cart);
 * } catch (error) {
 *   if (isStrongroomError(error, 'ERR_SESSION_ENDED')) return res.redirect(303, '/login');
 *   throw error;
 * }
 * ```
 */
export class SessionEndedError extends StrongroomError {
  declare readonly code: 'ERR_SESSION_ENDED';

  constructor() {
    super('ERR_SESSION_ENDED', 401, 'The session has ended; sign in again');
  }
}

/**
 * The action needs a login more recent than the configured fresh age (SM-32).
 *
 * @example
 * ```ts
 * try {
 *   session.requireFresh();
 * } catch (error) {
 *   if (isStrongroomError(error, 'ERR_REAUTHENTICATION_REQUIRED'))
 *     return res.redirect(303, '/login?step-up=1');
 *   throw error;
 * }
 * ```
 */
export class ReauthenticationRequiredError extends StrongroomError {
  declare readonly code: 'ERR_REAUTHENTICATION_REQUIRED';

  constructor() {
    super(
      'ERR_REAUTHENTICATION_REQUIRED',
      401,
      'This action needs a recent sign-in; sign in again',
    );
  }
}

/**
 * A cookie was about to be issued over plain HTTP while the configuration requires HTTPS
 * (SM-06). Behind a TLS-terminating proxy, enable `trustProxy` in the adapter; for local
 * development over http, set `cookie.secure: 'allow-http-development'`.
 *
 * @example
 * ```ts
 * try {
 *   await session.login(user.id);
 * } catch (error) {
 *   if (isStrongroomError(error, 'ERR_INSECURE_TRANSPORT')) console.error(error.message);
 *   throw error;
 * }
 * ```
 */
export class InsecureTransportError extends StrongroomError {
  declare readonly code: 'ERR_INSECURE_TRANSPORT';

  constructor() {
    super(
      'ERR_INSECURE_TRANSPORT',
      403,
      'Refusing to issue a session cookie over plain HTTP. Serve over HTTPS, trust your TLS proxy, or set cookie.secure to "allow-http-development" for local development',
    );
  }
}

/**
 * An unsafe request failed CSRF verification. Adapters answer 403 and change nothing.
 *
 * @example
 * ```ts
 * app.use((error, req, res, next) => {
 *   if (isStrongroomError(error, 'ERR_CSRF')) {
 *     logger.warn({ reason: error.reason }, 'CSRF check failed');
 *   }
 *   next(error);
 * });
 * ```
 */
export class CSRFError extends StrongroomError {
  declare readonly code: 'ERR_CSRF';
  readonly reason: CSRFFailureReason;

  constructor(reason: CSRFFailureReason) {
    super('ERR_CSRF', 403, `Cross-site request forgery check failed: ${reason}`);
    this.reason = reason;
  }
}

/**
 * A login would exceed `maxSessionsPerUser` under `sessionLimitPolicy: 'refuse'` (SM-34).
 * Nothing changed: the visitor keeps the session they had.
 *
 * @example
 * ```ts
 * try {
 *   await session.login(user.id);
 * } catch (error) {
 *   if (isStrongroomError(error, 'ERR_SESSION_LIMIT')) return res.status(409).render('too-many-devices');
 *   throw error;
 * }
 * ```
 */
export class SessionLimitError extends StrongroomError {
  declare readonly code: 'ERR_SESSION_LIMIT';

  constructor() {
    super(
      'ERR_SESSION_LIMIT',
      409,
      'Too many active sessions for this account; sign out on another device first',
    );
  }
}

/**
 * The client presented too many unknown session tokens and is refused for a while (SM-55).
 * Adapters answer 429 with `Retry-After: retryAfterSeconds`.
 *
 * @example
 * ```ts
 * if (isStrongroomError(error, 'ERR_TOO_MANY_REQUESTS')) {
 *   res.set('Retry-After', String(error.retryAfterSeconds)).sendStatus(429);
 * }
 * ```
 */
export class TooManyRequestsError extends StrongroomError {
  declare readonly code: 'ERR_TOO_MANY_REQUESTS';
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(
      'ERR_TOO_MANY_REQUESTS',
      429,
      'Too many requests with unknown session tokens; try again later',
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A caller passed an argument the API cannot accept (a programming error).
 *
 * @example
 * ```ts
 * // thrown, for example, by revokeSession() given something that is not a session id
 * expect(() => check()).toThrow(InvalidArgumentError);
 * ```
 */
export class InvalidArgumentError extends StrongroomError {
  declare readonly code: 'ERR_INVALID_ARGUMENT';

  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', 500, message);
  }
}

export {
  isStrongroomError,
  type AnyStrongroomError,
  type StrongroomErrorByCode,
} from './error-guards.js';
