import type { KeyInput, SessionStore } from 'strongroom';
import type { DemoEvent } from './demo-events.js';
import type { LoginThrottleOptions } from './login-throttle.js';

export const DEFAULT_DEMO_EMAIL = 'alice@example.com';
export const DEFAULT_DEMO_PASSWORD = 'correct horse battery staple';

/** Values accepted by Express's `trust proxy` setting (a function is deliberately not offered). */
export type TrustProxy = boolean | number | string | readonly string[];

export interface DemoOptions {
  /** Where sessions live. The demo does not close it: the caller owns it. */
  readonly store: SessionStore;
  /** Encryption keys for session data at rest, first one active. */
  readonly keys: readonly KeyInput[];
  /** Directory of `users.db` (created if missing, mode 0700; the database file 0600). */
  readonly dataDir: string;
  /** @default 1800 */
  readonly idleTimeoutSeconds?: number;
  /** @default 43200 */
  readonly absoluteTimeoutSeconds?: number;
  /** @default 900 */
  readonly rotationIntervalSeconds?: number;
  /** @default 30 */
  readonly rotationGraceSeconds?: number;
  /** How recent a login must be to change the password. @default 600 */
  readonly freshAgeSeconds?: number;
  /**
   * Passed to Express's `trust proxy`. Only then do `X-Forwarded-Proto` (Secure cookie,
   * `__Host-` name) and `X-Forwarded-For` (client IP) count.
   * @default false
   */
  readonly trustProxy?: TrustProxy;
  /**
   * The origins the app is served from (`https://app.example`), exactly as browsers send them
   * in `Origin`. Unsafe requests from anywhere else are refused (SM-41, SM-44).
   */
  readonly origins: readonly string[];
  /** @default 'alice@example.com' */
  readonly demoEmail?: string;
  /** @default 'correct horse battery staple' */
  readonly demoPassword?: string;
  /** A clock for the session manager (tests move it instead of sleeping). */
  readonly runtime?: { now(): number };
  /** Receives demo-level events (failed logins, new accounts, password changes). */
  readonly onEvent?: (event: DemoEvent) => void;
  /**
   * Limits on failed password checks (sign-in and password change), per account and per
   * client (SM-55). Its clock is `runtime`.
   * @default 5 per account and 20 per client in 15 minutes
   */
  readonly loginThrottle?: Omit<LoginThrottleOptions, 'now'>;
}
