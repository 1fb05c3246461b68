export { createSessionManager, type SessionManager } from './core/manager.js';
export {
  Session,
  type SessionData,
  type UntypedSessionData,
  type SessionInfo,
  type LoginOptions,
  type RegenerateOptions,
} from './core/session.js';
export {
  resolveConfig,
  type SessionManagerOptions,
  type CookieOptions,
  type ResolvedConfig,
} from './core/config.js';
export { parseKeyList, type KeyInput } from './core/key-ring.js';
export type { CookieSink, RequestContext } from './core/request.js';
export type { SessionEvent, SessionEventType, SessionEventListener } from './core/events.js';
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
export type { Runtime } from './core/runtime.js';
export { createFlash, flash, type Flash } from './core/flash.js';
export * from './core/errors.js';
