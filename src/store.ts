/**
 * The `strongroom/store` subpath: what a session store is written against. Applications never
 * need it (they pass a store in `createSessionManager({ store })`, typed `SessionStore` from
 * `strongroom`); store authors implement {@link SessionStore} and prove it with
 * `describeStoreContract` from `strongroom/testing`.
 *
 * @example
 * ```ts
 * import {
 *   expiresAt,
 *   StoreConflictError,
 *   StoreUnavailableError,
 *   type SessionStore,
 * } from 'strongroom/store';
 *
 * export function createMyStore(): SessionStore {
 *   // ...eight promise-returning verbs, keyed by the token hash and the public id
 * }
 * ```
 *
 * @module
 */
export {
  expiresAt,
  type SessionStore,
  type StoredSession,
  type TokenMatch,
  type RetiredToken,
  type ReplacedSession,
  type UserSessionLimit,
  type InsertOptions,
  type InsertResult,
  type DeleteAllOptions,
  type DeleteAllResult,
} from './core/store.js';
export { StoreUnavailableError, StoreConflictError } from './core/errors.js';
