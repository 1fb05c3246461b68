import type {
  ConfigError,
  StoreUnavailableError,
  StoreConflictError,
  SessionEndedError,
  ReauthenticationRequiredError,
  InsecureTransportError,
  CSRFError,
  SessionLimitError,
  TooManyRequestsError,
  InvalidArgumentError,
  StrongroomErrorCode,
} from './errors.js';

/** The mark every Strongroom error carries, shared by every copy of the package in a process. */
const BRAND = Symbol.for('strongroom.error');

/**
 * Each error code and the class thrown with it. Indexing it narrows a code to its class.
 *
 * @example
 * ```ts
 * function reasonOf(error: StrongroomErrorByCode['ERR_CSRF']): CSRFFailureReason {
 *   return error.reason;
 * }
 * ```
 */
export interface StrongroomErrorByCode {
  ERR_CONFIG: ConfigError;
  ERR_STORE_UNAVAILABLE: StoreUnavailableError;
  ERR_STORE_CONFLICT: StoreConflictError;
  ERR_SESSION_ENDED: SessionEndedError;
  ERR_REAUTHENTICATION_REQUIRED: ReauthenticationRequiredError;
  ERR_INSECURE_TRANSPORT: InsecureTransportError;
  ERR_CSRF: CSRFError;
  ERR_SESSION_LIMIT: SessionLimitError;
  ERR_TOO_MANY_REQUESTS: TooManyRequestsError;
  ERR_INVALID_ARGUMENT: InvalidArgumentError;
}

/**
 * Every Strongroom error class, as a union discriminated by `code`: a `switch` on the code
 * narrows to the class.
 *
 * @example
 * ```ts
 * function describe(error: AnyStrongroomError): string {
 *   switch (error.code) {
 *     case 'ERR_CSRF':
 *       return `CSRF: ${error.reason}`; // error is a CSRFError
 *     case 'ERR_TOO_MANY_REQUESTS':
 *       return `retry in ${error.retryAfterSeconds} s`;
 *     default:
 *       return error.message;
 *   }
 * }
 * ```
 */
export type AnyStrongroomError = StrongroomErrorByCode[StrongroomErrorCode];

/**
 * Whether `value` is an error thrown by Strongroom, optionally one with the given `code`, and
 * narrows it to that class. Prefer it to `instanceof`: it also recognises the errors of another
 * copy of the package in the same process (the CommonJS build next to the ESM one, or a store
 * package that brought its own copy), whose classes are not the same objects.
 *
 * @example
 * ```ts
 * import { isStrongroomError } from 'strongroom/errors';
 *
 * try {
 *   await session.login(user.id);
 * } catch (error) {
 *   if (isStrongroomError(error, 'ERR_CSRF')) console.warn(error.reason); // a CSRFError
 *   else if (isStrongroomError(error)) console.warn(error.code, error.status);
 *   throw error;
 * }
 * ```
 */
export function isStrongroomError(value: unknown): value is AnyStrongroomError;
export function isStrongroomError<Code extends StrongroomErrorCode>(
  value: unknown,
  code: Code,
): value is StrongroomErrorByCode[Code];
export function isStrongroomError(value: unknown, code?: StrongroomErrorCode): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as { [BRAND]?: unknown })[BRAND] !== true) return false;
  return code === undefined || (value as { code?: unknown }).code === code;
}
