import { ConfigError } from '../../core/errors.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most sessions kept at once, which keeps a flood of sessions from exhausting the
   * process's memory. When the store is full, inserting a session first drops an expired
   * session, else the anonymous session inserted longest ago. A live signed-in session is
   * never evicted: otherwise anyone able to sign up or log in repeatedly could push every
   * user out. When all `maxSessions` sessions are live and signed in, the insert rejects
   * (the session manager answers 503 and emits `store.failed`); use a persistent store, or
   * raise the bound, if that can happen.
   *
   * @default 10_000
   */
  readonly maxSessions?: number;
  /**
   * The clock that tells which sessions have expired when room is needed, in milliseconds
   * since the Unix epoch. Pass the same clock as the session manager's when you inject one.
   *
   * @default Date.now
   */
  readonly now?: () => number;
}

export interface ResolvedOptions {
  readonly maxSessions: number;
  readonly now: () => number;
}

const DEFAULT_MAX_SESSIONS = 10_000;

export function resolveOptions(options: MemoryStoreOptions): ResolvedOptions {
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw new ConfigError([{ path: 'maxSessions', message: 'must be a positive integer' }]);
  }
  return { maxSessions, now: options.now ?? (() => Date.now()) };
}
