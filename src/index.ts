export { createSessionManager, type SessionManager } from './core/manager.js';
export type {
  Session,
  SessionData,
  UntypedSessionData,
  SessionInfo,
  LoginOptions,
  RegenerateOptions,
} from './core/session.js';
export type { SessionManagerOptions, CookieOptions, CSRFOptions } from './core/config.js';
export { parseKeyList, type KeyInput } from './core/key-ring.js';
export type { CookieSink, RequestContext } from './core/request.js';
export type { SessionEvent, SessionEventType, SessionEventListener } from './core/events.js';
// Apps pass a store in the options; what a store author implements is in `strongroom/store`.
export type { SessionStore } from './core/store.js';
export type { Runtime } from './core/runtime.js';
export { createFlash, flash, type Flash } from './core/flash.js';
// The errors an app meets. The store's own errors (StoreUnavailableError, StoreConflictError)
// are in `strongroom/store` and, with every other class, in `strongroom/errors`; apps recognise
// them by code with isStrongroomError(), which also works across two copies of the package.
export {
  isStrongroomError,
  StrongroomError,
  ConfigError,
  SessionEndedError,
  ReauthenticationRequiredError,
  InsecureTransportError,
  CSRFError,
  SessionLimitError,
  TooManyRequestsError,
  InvalidArgumentError,
  type AnyStrongroomError,
  type StrongroomErrorByCode,
  type StrongroomErrorCode,
  type ConfigProblem,
  type CSRFFailureReason,
} from './core/errors.js';
