import { ConfigError, type ConfigProblem } from './errors.js';
import { resolveOrigins } from './config-origins.js';
import type { OriginPolicy } from '../csrf/request-check.js';
import { isValidCookieName, type SameSite } from './cookie.js';
import { resolveKeyRing, type KeyInput, type KeyRing } from './key-ring.js';
import { systemRuntime, type Runtime } from './runtime.js';
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
   * `session.guessing` is emitted once per window. Counted in this process.
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

const FINGERPRINT_NAMES = new Set([
  'connect.sid',
  'jsessionid',
  'phpsessid',
  'asp.net_sessionid',
  'sessionid',
]);

type TokenLimitOptions = Exclude<NonNullable<SessionManagerOptions['unknownTokenLimit']>, 'off'>;
interface OptionNames {
  readonly [name: string]: true | OptionNames;
}

/**
 * Every option name, level by level (a nested table applies to an object option, or to each
 * entry of an array option). Checked against the option interfaces in both directions: an
 * option declared but not listed here, or listed but not declared, does not compile. Unknown
 * names are refused at start-up because an ignored option is a silent downgrade: an
 * express-session `secret` or `cookie.maxAge` that does nothing, a typo that keeps a default.
 */
const OPTION_NAMES = {
  store: true,
  keys: { id: true, secret: true } satisfies Record<keyof KeyInput, true>,
  idleTimeoutSeconds: true,
  absoluteTimeoutSeconds: true,
  touchIntervalSeconds: true,
  rotationIntervalSeconds: true,
  rotationGraceSeconds: true,
  theftPolicy: true,
  freshAgeSeconds: true,
  maxSessionsPerUser: true,
  sessionLimitPolicy: true,
  currentCredential: true,
  clientBinding: true,
  unknownTokenLimit: { perClient: true, windowSeconds: true } satisfies Record<
    keyof TokenLimitOptions,
    true
  >,
  cookie: { name: true, sameSite: true, crossSite: true, secure: true } satisfies Record<
    keyof CookieOptions,
    true
  >,
  csrf: { protection: true, origins: true, trustedOrigins: true } satisfies Record<
    keyof CSRFOptions,
    true
  >,
  runtime: { now: true, randomBytes: true } satisfies Record<keyof Runtime, true>,
} as const satisfies Record<keyof SessionManagerOptions, true | OptionNames>;

const PERSISTENT_HINT =
  "lifetimes are idleTimeoutSeconds and absoluteTimeoutSeconds (whole seconds, enforced on the server); for a cookie that survives a browser restart, call login(userId, { cookie: 'persistent' })";
const PROXY_HINT =
  "set trust proxy in your framework instead (Express: app.set('trust proxy', …)): the adapter then reports HTTPS and the client address";
const PREFIX_HINT = 'not configurable: the __Host- prefix requires Path=/ and no Domain (SM-07)';

/** What express-session (and similar) names mean here, by path. */
const FOREIGN_OPTIONS: Readonly<Record<string, string>> = {
  secret:
    'did you mean keys? Data at rest is encrypted under keys: parseKeyList(process.env.STRONGROOM_KEYS) or [{ id, secret }]; generate one with `npx strongroom keygen`',
  name: 'did you mean cookie.name?',
  idleTimeout: 'did you mean idleTimeoutSeconds? (whole seconds)',
  maxAge: PERSISTENT_HINT,
  expires: PERSISTENT_HINT,
  'cookie.maxAge': PERSISTENT_HINT,
  'cookie.expires': PERSISTENT_HINT,
  resave:
    'not needed: the store is written when you await a change (set, login, …), never behind your back',
  saveUninitialized: 'not needed: nothing is stored until the app writes to the session or logs in',
  rolling: 'not needed: the idle deadline is extended on use (see touchIntervalSeconds)',
  unset: 'not needed: await session.logout() ends the session in the store',
  genid: 'not supported: session ids are always random',
  proxy: PROXY_HINT,
  trustProxy: PROXY_HINT,
  'cookie.httpOnly': 'not configurable: session cookies are always HttpOnly',
  'cookie.path': PREFIX_HINT,
  'cookie.domain': PREFIX_HINT,
};

/** Typical values, for telling a duration given in milliseconds from one in seconds. */
const TYPICAL_SECONDS = { idleTimeoutSeconds: 1800, touchIntervalSeconds: 60 } as const;

/**
 * Validates options and fills in defaults, reporting every problem at once in a
 * {@link ConfigError}. Pure: never mutates its input.
 */
export function resolveConfig(options: SessionManagerOptions): ResolvedConfig {
  const problems: ConfigProblem[] = [];
  const input = (options ?? {}) as Partial<SessionManagerOptions>;
  reportUnknownOptions(input, OPTION_NAMES, '', problems);
  const runtime = resolveRuntime(objectOption(input, 'runtime', problems), problems);

  if (!isStore(input.store)) {
    problems.push({
      path: 'store',
      message: 'a session store is required (e.g. createSQLiteStore())',
    });
  }
  const keyRing = resolveKeyRing(input.keys, runtime, problems);

  const seconds = (path: string, value: unknown, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      problems.push({ path, message: `expected a whole number of seconds ≥ ${min}` });
      return fallback;
    }
    return value;
  };
  const idle = seconds('idleTimeoutSeconds', input.idleTimeoutSeconds, 1800, 1);
  const absolute = seconds('absoluteTimeoutSeconds', input.absoluteTimeoutSeconds, 43200, 1);
  const touch = seconds(
    'touchIntervalSeconds',
    input.touchIntervalSeconds,
    Math.min(60, Math.floor(idle / 4)),
    0,
  );
  const rotation = seconds('rotationIntervalSeconds', input.rotationIntervalSeconds, 900, 1);
  const grace = seconds('rotationGraceSeconds', input.rotationGraceSeconds, 30, 0);
  const fresh = seconds('freshAgeSeconds', input.freshAgeSeconds, 600, 1);
  if (absolute < idle) {
    // The usual cause is a duration in milliseconds (express-session's habit): name that one.
    const inMilliseconds = millisecondsHint(idle, TYPICAL_SECONDS.idleTimeoutSeconds);
    problems.push(
      inMilliseconds === null
        ? {
            path: 'absoluteTimeoutSeconds',
            message: `must not be shorter than idleTimeoutSeconds (${absolute} < ${idle})`,
          }
        : {
            path: 'idleTimeoutSeconds',
            message: `longer than absoluteTimeoutSeconds (${absolute} seconds, ${describeSeconds(absolute)}): ${inMilliseconds}`,
          },
    );
  }
  if (input.touchIntervalSeconds !== undefined && touch >= idle) {
    const inMilliseconds = millisecondsHint(touch, TYPICAL_SECONDS.touchIntervalSeconds);
    problems.push({
      path: 'touchIntervalSeconds',
      message: `must be shorter than idleTimeoutSeconds (${touch} ≥ ${idle})${inMilliseconds === null ? '' : `: ${inMilliseconds}`}`,
    });
  }

  const theftPolicy = oneOf(
    problems,
    'theftPolicy',
    input.theftPolicy,
    ['revoke', 'log'] as const,
    'revoke',
  );
  const cookie: CookieOptions = objectOption(input, 'cookie', problems) ?? {};
  const name = cookie.name ?? 'sid';
  if (typeof name !== 'string' || !isValidCookieName(name) || /^__(host|secure)-/i.test(name)) {
    problems.push({
      path: 'cookie.name',
      message:
        'expected an RFC 6265 token without a __Host-/__Secure- prefix (added automatically)',
    });
  } else if (FINGERPRINT_NAMES.has(name.toLowerCase())) {
    problems.push({
      path: 'cookie.name',
      message: `"${name}" fingerprints a framework (SM-03); use a generic name`,
    });
  }
  const sameSite = oneOf(
    problems,
    'cookie.sameSite',
    cookie.sameSite,
    ['lax', 'strict', 'none'] as const,
    'lax',
  );
  const crossSite = oneOf(
    problems,
    'cookie.crossSite',
    cookie.crossSite,
    ['deny', 'allow'] as const,
    'deny',
  );
  if (sameSite === 'none' && crossSite !== 'allow') {
    problems.push({
      path: 'cookie.sameSite',
      message:
        '"none" sends the cookie on every cross-site request; set cookie.crossSite to "allow" if that is really intended',
    });
  }
  const secure = oneOf(
    problems,
    'cookie.secure',
    cookie.secure,
    ['always', 'allow-http-development'] as const,
    'always',
  );
  const csrf = resolveCSRF(
    objectOption(
      input,
      'csrf',
      problems,
      '; to turn the checks off, set csrf: { protection: "off" }',
    ),
    problems,
  );
  const maxSessions = input.maxSessionsPerUser ?? 0;
  if (
    input.maxSessionsPerUser !== undefined &&
    (!Number.isSafeInteger(maxSessions) || maxSessions < 1)
  ) {
    problems.push({ path: 'maxSessionsPerUser', message: 'expected a whole number ≥ 1' });
  }
  const limitPolicy = oneOf(
    problems,
    'sessionLimitPolicy',
    input.sessionLimitPolicy,
    ['refuse', 'evict-oldest'] as const,
    'evict-oldest',
  );
  const clientBinding = oneOf(
    problems,
    'clientBinding',
    input.clientBinding,
    ['off', 'detect', 'strict'] as const,
    'off',
  );
  if (input.currentCredential !== undefined && typeof input.currentCredential !== 'function') {
    problems.push({
      path: 'currentCredential',
      message: 'expected a function (userId) => the credential now, or null',
    });
  }
  const unknownTokenLimit = resolveUnknownTokenLimit(input.unknownTokenLimit, problems);

  if (problems.length > 0 || keyRing === null || !isStore(input.store))
    throw new ConfigError(problems);
  return {
    store: input.store,
    keyRing,
    runtime,
    idleTimeoutMs: idle * 1000,
    absoluteTimeoutMs: absolute * 1000,
    touchIntervalMs: touch * 1000,
    rotationIntervalMs: rotation * 1000,
    rotationGraceMs: grace * 1000,
    freshAgeMs: fresh * 1000,
    theftPolicy,
    cookieName: name,
    sameSite: sameSite === 'lax' ? 'Lax' : sameSite === 'strict' ? 'Strict' : 'None',
    allowInsecureHttp: secure === 'allow-http-development',
    csrf,
    sessionLimit: maxSessions > 0 ? { max: maxSessions, policy: limitPolicy } : null,
    currentCredential:
      typeof input.currentCredential === 'function' ? input.currentCredential : null,
    clientBinding,
    unknownTokenLimit,
  };
}

/**
 * The injected clock and randomness, checked with one call each: a wrong type or a clock that
 * returns NaN would otherwise surface as a 500 at the first write, or as "Invalid Date"
 * deadlines.
 */
function resolveRuntime(input: Partial<Runtime> | undefined, problems: ConfigProblem[]): Runtime {
  const runtime: Runtime = { ...systemRuntime, ...input };
  if (typeof runtime.now !== 'function') {
    problems.push({
      path: 'runtime.now',
      message: 'expected a function returning epoch milliseconds',
    });
  } else {
    const now: unknown = runtime.now();
    if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) {
      problems.push({
        path: 'runtime.now',
        message: `returned ${String(now)}; expected finite epoch milliseconds`,
      });
    }
  }
  if (typeof runtime.randomBytes !== 'function') {
    problems.push({
      path: 'runtime.randomBytes',
      message: 'expected a function (size) => Uint8Array of that many CSPRNG bytes',
    });
  } else {
    const bytes: unknown = runtime.randomBytes(16);
    if (!(bytes instanceof Uint8Array) || bytes.length !== 16) {
      problems.push({
        path: 'runtime.randomBytes',
        message: 'must return a Uint8Array of exactly the requested size',
      });
    }
  }
  return runtime;
}

function resolveUnknownTokenLimit(
  input: SessionManagerOptions['unknownTokenLimit'],
  problems: ConfigProblem[],
): ResolvedConfig['unknownTokenLimit'] {
  if (input === 'off') return null;
  if (input === undefined) return { perClient: 100, windowMs: 60_000 };
  const { perClient = 100, windowSeconds = 60 } =
    typeof input === 'object' && input !== null ? input : { perClient: Number.NaN };
  const valid = (value: unknown): boolean =>
    typeof value === 'number' && Number.isInteger(value) && value >= 1;
  if (!valid(perClient) || !valid(windowSeconds)) {
    problems.push({
      path: 'unknownTokenLimit',
      message: "expected { perClient, windowSeconds } as whole numbers ≥ 1, or 'off'",
    });
    return null;
  }
  return { perClient, windowMs: windowSeconds * 1000 };
}

function resolveCSRF(
  options: CSRFOptions | undefined,
  problems: ConfigProblem[],
): ResolvedConfig['csrf'] {
  const input = options ?? {};
  const protection = oneOf(
    problems,
    'csrf.protection',
    input.protection,
    ['enforce', 'off'] as const,
    'enforce',
  );
  const selfOrigins = resolveOrigins(input.origins, 'csrf.origins', problems);
  const trustedOrigins = resolveOrigins(input.trustedOrigins, 'csrf.trustedOrigins', problems);
  const emptyOrigins = Array.isArray(input.origins) && input.origins.length === 0;
  if (protection === 'enforce' && (input.origins === undefined || emptyOrigins)) {
    // An empty list would refuse every unsafe request from a browser (origin-mismatch).
    problems.push({
      path: 'csrf.origins',
      message: `${emptyOrigins ? 'is empty, so every POST, PUT, PATCH and DELETE from a browser would be refused; ' : ''}list the origins the app is served from, e.g. ["https://app.example"] (or set csrf.protection to "off")`,
    });
  }
  return {
    enforce: protection === 'enforce',
    selfOrigins: new Set(selfOrigins),
    trustedOrigins: new Set(trustedOrigins),
  };
}

function oneOf<const T extends string>(
  problems: ConfigProblem[],
  path: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  problems.push({ path, message: `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}` });
  return fallback;
}

function isStore(value: unknown): value is SessionStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SessionStore).findByTokenHash === 'function' &&
    typeof (value as SessionStore).update === 'function'
  );
}

/**
 * An object-valued option, or undefined (absent, or reported as a problem when it is not an
 * object: `csrf: false` must not quietly mean the defaults).
 */
function objectOption<K extends 'cookie' | 'csrf' | 'runtime'>(
  input: Partial<SessionManagerOptions>,
  name: K,
  problems: ConfigProblem[],
  hint = '',
): SessionManagerOptions[K] | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  const names = Object.keys(OPTION_NAMES[name]).join(', ');
  problems.push({ path: name, message: `expected an object with any of ${names}${hint}` });
  return undefined;
}

/** Refuses every option name that is not in `names`, level by level, with a suggestion. */
function reportUnknownOptions(
  value: unknown,
  names: OptionNames,
  path: string,
  problems: ConfigProblem[],
): void {
  if (Array.isArray(value)) {
    value.forEach((entry: unknown, index) => {
      reportUnknownOptions(entry, names, `${path}[${index}]`, problems);
    });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const name of Object.keys(value)) {
    const child = path === '' ? name : `${path}.${name}`;
    const known = Object.hasOwn(names, name) ? names[name] : undefined;
    if (known === undefined) {
      problems.push({ path: child, message: unknownOptionMessage(path, name, names) });
    } else if (known !== true) {
      reportUnknownOptions((value as Record<string, unknown>)[name], known, child, problems);
    }
  }
}

function unknownOptionMessage(parent: string, name: string, siblings: OptionNames): string {
  const inKeyList = parent.startsWith('keys');
  const foreign = inKeyList
    ? undefined
    : FOREIGN_OPTIONS[parent === '' ? name : `${parent}.${name}`];
  const unknown = inKeyList ? 'not a field of a key' : 'not a Strongroom option';
  if (foreign !== undefined) return `${unknown}; ${foreign}`;
  const suggestion = suggestOption(parent, name, inKeyList ? siblings : OPTION_NAMES);
  if (suggestion !== null) {
    const seconds =
      suggestion.endsWith('Seconds') && !name.endsWith('Seconds') ? ' (whole seconds)' : '';
    return `${unknown}; did you mean ${suggestion}?${seconds}`;
  }
  return `${unknown}; known here: ${Object.keys(siblings).join(', ')}`;
}

/**
 * The closest known option: a near miss in spelling or case, the same name at another level
 * (`sameSite` → `cookie.sameSite`), or the same duration in another unit (`idleTimeoutMs`).
 * On a tie, the option at the same level wins.
 */
function suggestOption(parent: string, name: string, tree: OptionNames): string | null {
  const wanted = name.toLowerCase();
  const stem = wanted.replace(/(ms|millis|milliseconds|secs?|seconds)$/, '');
  const candidates: { path: string; leaf: string; sameLevel: boolean }[] = [];
  const collect = (names: OptionNames, prefix: string): void => {
    for (const [leaf, nested] of Object.entries(names)) {
      const path = prefix === '' ? leaf : `${prefix}.${leaf}`;
      candidates.push({ path, leaf, sameLevel: prefix === parent });
      // Nobody puts session options into a key entry: never suggest one there.
      if (nested !== true && path !== 'keys') collect(nested, path);
    }
  };
  collect(tree, tree === OPTION_NAMES ? '' : parent);
  let best: { path: string; score: number } | null = null;
  for (const { path, leaf, sameLevel } of candidates) {
    const lower = leaf.toLowerCase();
    const distance =
      lower.endsWith('seconds') && lower.slice(0, -'seconds'.length) === stem
        ? 0
        : levenshtein(wanted, lower);
    if (distance > (lower.length < 6 ? 1 : 2)) continue;
    const score = distance * 2 + (sameLevel ? 0 : 1);
    if (best === null || score < best.score) best = { path: sameLevel ? leaf : path, score };
  }
  return best?.path ?? null;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(
        Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * A hint when `value` seconds is at least 1000 times a typical value, i.e. probably
 * milliseconds, or null.
 */
function millisecondsHint(value: number, typical: number): string | null {
  if (value < typical * 1000) return null;
  return `${value} seconds is ${describeSeconds(value)}; durations are in seconds — did you mean ${Math.round(value / 1000)}?`;
}

function describeSeconds(seconds: number): string {
  const units = [
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ] as const;
  for (const [size, unit] of units) {
    if (seconds >= size) {
      const amount = Math.round((seconds / size) * 10) / 10;
      return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
