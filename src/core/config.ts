import { ConfigError, type ConfigProblem } from './errors.js';
import { resolveOrigins } from './config-origins.js';
import {
  describeSeconds,
  millisecondsHint,
  OPTION_NAMES,
  reportUnknownOptions,
  TYPICAL_SECONDS,
} from './config-names.js';
import type {
  CookieOptions,
  CSRFOptions,
  ResolvedConfig,
  SessionManagerOptions,
} from './config-options.js';
import { isValidCookieName, type SameSite } from './cookie.js';
import { resolveKeyRing } from './key-ring.js';
import { systemRuntime, type Runtime } from './runtime.js';
import type { SessionStore } from './store.js';

export type { CookieOptions, CSRFOptions, ResolvedConfig, SessionManagerOptions };

const FINGERPRINT_NAMES = new Set([
  'connect.sid',
  'jsessionid',
  'phpsessid',
  'asp.net_sessionid',
  'sessionid',
]);

type Timeouts = Pick<
  ResolvedConfig,
  | 'idleTimeoutMs'
  | 'absoluteTimeoutMs'
  | 'touchIntervalMs'
  | 'rotationIntervalMs'
  | 'rotationGraceMs'
  | 'freshAgeMs'
>;
type CookieSettings = Pick<ResolvedConfig, 'cookieName' | 'sameSite' | 'allowInsecureHttp'>;

/**
 * Validates options and fills in defaults, reporting every problem at once in a
 * {@link ConfigError}. Pure: never mutates its input.
 */
export function resolveConfig(options: SessionManagerOptions): ResolvedConfig {
  const problems: ConfigProblem[] = [];
  const input = (options ?? {}) as Partial<SessionManagerOptions>;
  reportUnknownOptions(input, OPTION_NAMES, '', problems);
  const runtime = resolveRuntime(objectOption(input, 'runtime', problems), problems);
  if (!isStore(input.store)) problems.push({ path: 'store', message: storeProblem(input.store) });
  const keyRing = resolveKeyRing(input.keys, runtime, problems);
  const timeouts = resolveTimeouts(input, problems);
  const theftPolicy = oneOf(
    problems,
    'theftPolicy',
    input.theftPolicy,
    ['revoke', 'log'] as const,
    'revoke',
  );
  const cookie = resolveCookie(objectOption(input, 'cookie', problems) ?? {}, problems);
  const csrfHint = '; to turn the checks off, set csrf: { protection: "off" }';
  const csrf = resolveCSRF(objectOption(input, 'csrf', problems, csrfHint), problems);
  const sessionLimit = resolveSessionLimit(input, problems);
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
    ...timeouts,
    theftPolicy,
    ...cookie,
    csrf,
    sessionLimit,
    currentCredential:
      typeof input.currentCredential === 'function' ? input.currentCredential : null,
    clientBinding,
    unknownTokenLimit,
  };
}

/** The durations, in whole seconds in the options and milliseconds once resolved. */
function resolveTimeouts(
  input: Partial<SessionManagerOptions>,
  problems: ConfigProblem[],
): Timeouts {
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
  if (absolute < idle) problems.push(idleBeyondAbsolute(idle, absolute));
  if (input.touchIntervalSeconds !== undefined && touch >= idle) {
    const inMilliseconds = millisecondsHint(touch, TYPICAL_SECONDS.touchIntervalSeconds);
    problems.push({
      path: 'touchIntervalSeconds',
      message: `must be shorter than idleTimeoutSeconds (${touch} ≥ ${idle})${inMilliseconds === null ? '' : `: ${inMilliseconds}`}`,
    });
  }
  return {
    idleTimeoutMs: idle * 1000,
    absoluteTimeoutMs: absolute * 1000,
    touchIntervalMs: touch * 1000,
    rotationIntervalMs: rotation * 1000,
    rotationGraceMs: grace * 1000,
    freshAgeMs: fresh * 1000,
  };
}

/** The usual cause of an idle timeout past the absolute one is milliseconds: name that one. */
function idleBeyondAbsolute(idle: number, absolute: number): ConfigProblem {
  const inMilliseconds = millisecondsHint(idle, TYPICAL_SECONDS.idleTimeoutSeconds);
  if (inMilliseconds === null) {
    return {
      path: 'absoluteTimeoutSeconds',
      message: `must not be shorter than idleTimeoutSeconds (${absolute} < ${idle})`,
    };
  }
  return {
    path: 'idleTimeoutSeconds',
    message: `longer than absoluteTimeoutSeconds (${absolute} seconds, ${describeSeconds(absolute)}): ${inMilliseconds}`,
  };
}

function resolveCookie(cookie: CookieOptions, problems: ConfigProblem[]): CookieSettings {
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
  return {
    cookieName: name,
    sameSite: SAME_SITE[sameSite],
    allowInsecureHttp: secure === 'allow-http-development',
  };
}

const SAME_SITE: Readonly<Record<'lax' | 'strict' | 'none', SameSite>> = {
  lax: 'Lax',
  strict: 'Strict',
  none: 'None',
};

function resolveSessionLimit(
  input: Partial<SessionManagerOptions>,
  problems: ConfigProblem[],
): ResolvedConfig['sessionLimit'] {
  const maxSessions = input.maxSessionsPerUser ?? 0;
  if (
    input.maxSessionsPerUser !== undefined &&
    (!Number.isSafeInteger(maxSessions) || maxSessions < 1)
  ) {
    problems.push({ path: 'maxSessionsPerUser', message: 'expected a whole number ≥ 1' });
  }
  const policy = oneOf(
    problems,
    'sessionLimitPolicy',
    input.sessionLimitPolicy,
    ['refuse', 'evict-oldest'] as const,
    'evict-oldest',
  );
  return maxSessions > 0 ? { max: maxSessions, policy } : null;
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

const EXPRESS_SESSION_STORE =
  'an express-session store (connect-redis, connect-pg-simple, …) cannot hold Strongroom sessions: it keys them by the raw session id. Point createRedisStore() or createPostgresStore() at the same server instead (docs/migrating-from-express-session.md)';

function storeProblem(value: unknown): string {
  const store = value as Partial<Record<'get' | 'set' | 'destroy', unknown>> | null | undefined;
  const expressSessionStore =
    typeof store?.get === 'function' &&
    typeof store.set === 'function' &&
    typeof store.destroy === 'function';
  return expressSessionStore
    ? EXPRESS_SESSION_STORE
    : 'a session store is required (e.g. createSQLiteStore())';
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
