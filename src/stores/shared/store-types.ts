/**
 * The contract types every store implements, imported from one place so that each store lists
 * only what it uses from here rather than repeating the list from the core.
 */
export type {
  DeleteAllOptions,
  DeleteAllResult,
  InsertOptions,
  InsertResult,
  ReplacedSession,
  RetiredToken,
  SessionStore,
  StoredSession,
  TokenMatch,
  UserSessionLimit,
} from '../../core/store.js';
