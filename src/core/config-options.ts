import type { SameSite } from './cookie.js';
import type { OriginPolicy } from '../csrf/request-check.js';
import type { KeyInput, KeyRing } from './key-ring.js';
import type { Runtime } from './runtime.js';
import type { SessionStore } from './store.js';

/**
 * Options of {@link createSessionManager}. Durations are whole seconds. An option name that is
 * not listed here (an express-session `secret`, `cookie.maxAge`, a typo) is refused with a
 * {@link ConfigError} that suggests what to use instead, rather than silently ignored.
 *
 * @example
 * ```ts
 * const sessions = createSessionManager<{ cart: string[] }>({
 *   store: createSQLiteStore({ path: 'sessions.db' }),
 *   keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''),
 *   idleTimeoutSeconds: 30 * 60,
 * });
 * ```
 */
export interface SessionManagerOptions {
  /** Where sessions live. */
  readonly store: SessionStore;
  /** Encryption keys for data at rest; the first one seals, all of them open. */
  readonly keys: readonly KeyInput[];
  /**
   * A session unused for this long ends (SM-21), enforced from the server record.
   * @default 1800 (30 minutes)
   */
  readonly idleTimeoutSeconds?: number;
  /**
   * A session ends this long after login or creation however active it is (SM-22).
   * @default 43200 (12 hours)
   */
  readonly absoluteTimeoutSeconds?: number;
  /**
   * Extending the idle deadline writes to the store at most once per interval, so a read-heavy
   * page costs one store read and no write. Must be shorter than the idle timeout.
   * @default min(60, floor(idleTimeoutSeconds / 4)); 0 extends on every request
   */
  readonly touchIntervalSeconds?: number;
  /**
   * The token is replaced after this long (SM-20). The session id and deadlines stay.
   * @default 900 (15 minutes)
   */
  readonly rotationIntervalSeconds?: number;
  /**
   * After a rotation the previous token keeps working this long, so that requests already in
   * flight from the same browser are not logged out. Presented later, it counts as theft.
   * @default 30
   */
  readonly rotationGraceSeconds?: number;
  /**
   * `revoke` ends the whole session when a rotated-out token returns after its grace window
   * (the thief and the victim both sign in again); `log` only emits the event.
   * @default 'revoke'
   */
  readonly theftPolicy?: 'revoke' | 'log';
  /**
   * How recent a login must be for {@link Session.requireFresh} (SM-32).
   * @default 600 (10 minutes)
   */
  readonly freshAgeSeconds?: number;
  /**
   * At most this many live sessions per user (SM-34), enforced atomically by the store at
   * login. Unlimited when absent.
   */
  readonly maxSessionsPerUser?: number;
  /**
   * What a login beyond {@link maxSessionsPerUser} does. `evict-oldest` ends the user's least
   * recently used sessions to make room (event `session.revoked`, reason `session-limit`);
   * `refuse` makes `login()` throw `SessionLimitError` (409) and changes nothing.
   * @default 'evict-oldest'
   */
  readonly sessionLimitPolicy?: 'refuse' | 'evict-oldest';
  /**
   * Binds a session to the credential it was made with (Django's session auth hash, SM-28):
   * `login(userId, { credential })` stores a keyed fingerprint of it, sealed, and every request
   * of a signed-in session compares it with what this function returns for the user now (for
   * example the password hash, or a counter bumped on every password or MFA change). A
   * mismatch, or null (account gone or disabled), ends the session. So a login that checked
   * the old password while the password was being changed dies on its next request, whatever
   * the timing. A rejection answers 503 (fail closed).
   */
  readonly currentCredential?: (userId: string) => string | null | Promise<string | null>;
  /**
   * Opt-in client binding (SM-58). `detect` emits `session.client_changed` when a session is
   * used with another User-Agent than the one it was created with; `strict` also ends the
   * session (both parties sign in again). Off by default: browsers update themselves.
   * @default 'off'
   */
  readonly clientBinding?: 'off' | 'detect' | 'strict';
  /**
   * Token-guessing defence (SM-55): a client (by the IP address the adapter determined) that
   * presents `perClient` unknown well-formed tokens within `windowSeconds` is answered 429
   * (`TooManyRequestsError`) for the rest of the window whenever it presents a token, and
   * `session.guessing` is emitted once per window. Counted in this process. Requests whose
   * adapter knows no client IP (a Fetch host without a `connection` that supplies one) are not
   * counted: a shared bucket would let one guesser lock out every such visitor.
   * @default { perClient: 100, windowSeconds: 60 }
   */
  readonly unknownTokenLimit?:
    { readonly perClient: number; readonly windowSeconds: number } | 'off';
  readonly cookie?: CookieOptions;
  /** Cross-site request forgery defence, on by default for every unsafe method (SM-35). */
  readonly csrf?: CSRFOptions;
  /**
   * Inject a clock and randomness (tests). Checked at start-up: `now()` must return finite
   * epoch milliseconds and `randomBytes(n)` a `Uint8Array` of `n` bytes.
   */
  readonly runtime?: Partial<Runtime>;
}

export interface CookieOptions {
  /**
   * Base name. Over HTTPS the cookie is sent as `__Host-<name>` (SM-07). Keep it generic
   * (SM-03): never `connect.sid`, `JSESSIONID` or `PHPSESSID`.
   * @default 'sid'
   */
  readonly name?: string;
  /**
   * `lax` suits most apps; `strict` also drops the cookie on cross-site top-level
   * navigations. `none` is refused unless `crossSite` is `'allow'` (SM-09).
   * @default 'lax'
   */
  readonly sameSite?: 'lax' | 'strict' | 'none';
  /** Opt-in needed for `sameSite: 'none'`, which makes every cross-site request credentialed. */
  readonly crossSite?: 'deny' | 'allow';
  /**
   * `always`: cookies are only issued over HTTPS (SM-06); plain-HTTP requests are anonymous.
   * `allow-http-development`: over plain HTTP the cookie is issued without `Secure` and without
   * the `__Host-` prefix. For local development only; a warning is emitted at start-up.
   * @default 'always'
   */
  readonly secure?: 'always' | 'allow-http-development';
}

export interface CSRFOptions {
  /**
   * `enforce`: every POST, PUT, PATCH, DELETE (anything but GET, HEAD, OPTIONS) must pass the
   * Fetch-Metadata / Origin check and carry a valid synchronizer token, or the load rejects
   * with `CSRFError` (403) before anything is written. `off`: check yourself with
   * `session.verifyCSRFToken()`.
   * @default 'enforce'
   */
  readonly protection?: 'enforce' | 'off';
  /**
   * The app's own public origins, exactly as browsers send them in `Origin`
   * (`https://app.example`, no trailing slash). Required while protection is on: the app's
   * origin is never guessed from the attacker-controlled `Host` header (SM-44).
   */
  readonly origins?: readonly string[];
  /**
   * Other origins whose pages may send unsafe requests (a separate front end, a sibling
   * subdomain). Exact origins only; `*` and `null` are refused (SM-43).
   * @default []
   */
  readonly trustedOrigins?: readonly string[];
}

export interface ResolvedConfig {
  readonly store: SessionStore;
  readonly keyRing: KeyRing;
  readonly runtime: Runtime;
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly touchIntervalMs: number;
  readonly rotationIntervalMs: number;
  readonly rotationGraceMs: number;
  readonly freshAgeMs: number;
  readonly theftPolicy: 'revoke' | 'log';
  readonly cookieName: string;
  readonly sameSite: SameSite;
  readonly allowInsecureHttp: boolean;
  readonly csrf: { readonly enforce: boolean } & OriginPolicy;
  readonly sessionLimit: {
    readonly max: number;
    readonly policy: 'refuse' | 'evict-oldest';
  } | null;
  readonly currentCredential: NonNullable<SessionManagerOptions['currentCredential']> | null;
  readonly clientBinding: 'off' | 'detect' | 'strict';
  readonly unknownTokenLimit: { readonly perClient: number; readonly windowMs: number } | null;
}
