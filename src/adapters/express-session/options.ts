import type { SessionManagerOptions } from '../../core/config-options.js';
import type { ConfigProblem } from '../../core/errors.js';
import type { ExpressSessionsOptions } from '../express.js';

/** express-session's `cookie` options, as far as they keep the cookie safe. */
export interface ExpressSessionCookieOptions {
  /**
   * Milliseconds. As in express-session, a session unused this long ends (here the idle
   * timeout, enforced on the server, so it maps to `idleTimeoutSeconds`), and sign-ins get a
   * persistent cookie; it never outlives the absolute timeout (SM-10). Without it, cookies end
   * with the browser session and the idle timeout is the default (30 minutes).
   */
  readonly maxAge?: number | null;
  /**
   * `true` (the default here, unlike express-session): cookies only over HTTPS, `__Host-`
   * prefixed. `false` or `'auto'`: also over plain HTTP, for local development; refused when
   * `NODE_ENV` is `production` (SM-06). `'allow-http-development'` is the manager's own
   * spelling of the same, accepted whatever `NODE_ENV` says (with a warning at start-up).
   */
  readonly secure?: boolean | 'auto' | 'allow-http-development';
  /** `'lax'` (default) or `'strict'` (`true` means strict); `'none'` needs `crossSite: 'allow'`. */
  readonly sameSite?: true | 'lax' | 'strict' | 'none';
  /** Opt-in needed for `sameSite: 'none'`. */
  readonly crossSite?: 'deny' | 'allow';
  /** Always true; `false` is refused (SM-08). */
  readonly httpOnly?: true;
  /** Always `/`: the `__Host-` prefix requires it (SM-07). */
  readonly path?: '/';
  /** Refused: the `__Host-` prefix forbids a Domain (SM-07). */
  readonly domain?: never;
  /** Refused: use `maxAge`. */
  readonly expires?: never;
}

/**
 * Options of `expressSession()`: express-session's, as far as they are safe, and the session
 * manager's (`store`, `keys`, `csrf`, timeouts, …). Unsafe express-session options are refused
 * with a `ConfigError` that says what to do instead.
 */
export interface ExpressSessionOptions
  extends Omit<SessionManagerOptions, 'cookie' | 'currentCredential'>, ExpressSessionsOptions {
  /** The cookie's base name (sent as `__Host-<name>` over HTTPS). Never `connect.sid` (SM-03). */
  readonly name?: string;
  readonly cookie?: ExpressSessionCookieOptions;
  /**
   * Which user a session belongs to, read from its data after each change: a change of user
   * is a login (new token and session id) or a logout (the session ends on the server).
   * @default Passport's `data.passport.user` (a string, a number, or an object's `id`)
   */
  readonly userId?: (data: Readonly<Record<string, unknown>>) => string | number | null | undefined;
  /**
   * What happens when the app sets `req.session = null` (or deletes it): `destroy` ends the
   * session on the server, `keep` leaves it as it was stored.
   * @default 'keep'
   */
  readonly unset?: 'keep' | 'destroy';
  /** Accepted, either value: the idle deadline always slides on use, the absolute one never. */
  readonly rolling?: boolean;
  /** Only `false`: refused when true (it would overwrite concurrent writes). */
  readonly resave?: false;
  /** Only `false`: refused when true (it would store a session for every visitor). */
  readonly saveUninitialized?: false;
  /** Refused: data is encrypted under `keys`; the cookie holds a random token, not a signed id. */
  readonly secret?: never;
  /** Refused: session ids and tokens are always random. */
  readonly genid?: never;
  /** Refused: HTTPS is what Express's `trust proxy` setting makes of the request. */
  readonly proxy?: never;
}

/** What the compatibility layer itself needs, after the manager took its options. */
export interface CompatSettings {
  readonly unset: 'keep' | 'destroy';
  readonly userId: ((data: Readonly<Record<string, unknown>>) => unknown) | null;
  /** Whether sign-ins get a persistent cookie (cookie.maxAge was given). */
  readonly persistentLogins: boolean;
  readonly maxAgeMs: number | null;
  readonly sameSite: 'lax' | 'strict' | 'none';
  /** The data names a user that is no id: warns once, so that the app passes `userId`. */
  unrecognisedUser(): void;
}

export interface ResolvedCompatOptions {
  readonly manager: SessionManagerOptions;
  readonly adapter: ExpressSessionsOptions;
  readonly settings: CompatSettings;
  readonly problems: readonly ConfigProblem[];
}

const DEFAULT_ABSOLUTE_SECONDS = 43_200;

const REFUSED: Readonly<Record<string, string>> = {
  secret:
    'not used: the cookie holds a random 256-bit token stored only hashed, so there is nothing to sign, and session data is encrypted under keys instead: keys: parseKeyList(process.env.STRONGROOM_KEYS) (generate one with `npx strongroom keygen`)',
  genid:
    'refused: session ids and tokens are always random, never chosen by the app or the client (session fixation, SM-15)',
  proxy:
    "refused: remove it and set Express's trust proxy (app.set('trust proxy', …)) to your proxy instead; req.secure then says whether the request came over HTTPS, and no client can claim it with a header (SM-44)",
  currentCredential:
    'not supported by the express-session compatibility layer (logins come from the session data, without the credential): use strongroom/express',
};

const UNRECOGNISED_USER =
  'Strongroom: the session data names a user that is neither a string, a number nor an object with an id (Passport: what serializeUser passes on), so sessions are not tied to it (no device list, no revoke-all, and a change of user without regenerate() keeps the token). Pass expressSession({ userId: (data) => … })';

function warnOnce(message: string): () => void {
  let warned = false;
  return () => {
    if (warned) return;
    warned = true;
    process.emitWarning(message, {
      type: 'StrongroomWarning',
      code: 'STRONGROOM_UNRECOGNISED_USER',
    });
  };
}

/** Translates express-session options into the manager's, listing every refused one. */
export function resolveCompatOptions(options: ExpressSessionOptions): ResolvedCompatOptions {
  const problems: ConfigProblem[] = [];
  const {
    name,
    cookie,
    userId,
    unset,
    rolling,
    resave,
    saveUninitialized,
    csrfExemptPaths,
    errors,
    ...rest
  } = (options ?? {}) as ExpressSessionOptions & Record<string, unknown>;
  const manager: Record<string, unknown> = { ...rest };
  for (const [option, message] of Object.entries(REFUSED)) {
    if (manager[option] === undefined) continue;
    problems.push({ path: option, message });
    delete manager[option];
  }
  if ((resave as unknown) === true) {
    problems.push({
      path: 'resave',
      message:
        'refused: it writes back sessions a request did not change, overwriting what concurrent requests wrote; remove it: changes are saved at the end of the request, merged key by key',
    });
  }
  if ((saveUninitialized as unknown) === true) {
    problems.push({
      path: 'saveUninitialized',
      message:
        'refused: it stores a session and sets a cookie for every visitor; remove it: a session is stored once the app puts something in it',
    });
  }
  if (rolling !== undefined && typeof rolling !== 'boolean') {
    problems.push({ path: 'rolling', message: 'expected true or false' });
  }
  if (unset !== undefined && unset !== 'keep' && unset !== 'destroy') {
    problems.push({ path: 'unset', message: "expected 'keep' or 'destroy'" });
  }
  if (userId !== undefined && typeof userId !== 'function') {
    problems.push({ path: 'userId', message: 'expected a function (data) => the user id or null' });
  }
  const translated = translateCookie(cookie, name, options, problems);
  if (translated.idleTimeoutSeconds !== undefined) {
    manager.idleTimeoutSeconds = translated.idleTimeoutSeconds;
  }
  manager.cookie = translated.cookie;
  return {
    manager: manager as unknown as SessionManagerOptions,
    adapter: {
      ...(csrfExemptPaths === undefined ? {} : { csrfExemptPaths }),
      ...(errors === undefined ? {} : { errors }),
    },
    settings: {
      unset: unset ?? 'keep',
      userId: typeof userId === 'function' ? userId : null,
      persistentLogins: translated.maxAgeMs !== null,
      maxAgeMs: translated.maxAgeMs,
      sameSite: translated.cookie.sameSite ?? 'lax',
      unrecognisedUser: warnOnce(UNRECOGNISED_USER),
    },
    problems,
  };
}

interface TranslatedCookie {
  readonly cookie: {
    name?: string;
    sameSite?: 'lax' | 'strict' | 'none';
    crossSite?: 'deny' | 'allow';
    secure?: 'always' | 'allow-http-development';
  };
  readonly idleTimeoutSeconds: number | undefined;
  readonly maxAgeMs: number | null;
}

function translateCookie(
  given: ExpressSessionCookieOptions | undefined,
  name: string | undefined,
  options: ExpressSessionOptions,
  problems: ConfigProblem[],
): TranslatedCookie {
  const input = (given ?? {}) as Record<string, unknown>;
  const cookie: TranslatedCookie['cookie'] = {};
  if (name !== undefined) cookie.name = name;
  for (const key of Object.keys(input)) {
    if (!['maxAge', 'secure', 'sameSite', 'crossSite', 'httpOnly', 'path'].includes(key)) {
      problems.push({ path: `cookie.${key}`, message: cookieRefusal(key) });
    }
  }
  if (input.httpOnly !== undefined && input.httpOnly !== true) {
    problems.push({
      path: 'cookie.httpOnly',
      message: 'refused: session cookies are always HttpOnly, out of reach of scripts (SM-08)',
    });
  }
  if (input.path !== undefined && input.path !== '/') {
    problems.push({ path: 'cookie.path', message: cookieRefusal('path') });
  }
  const secure = translateSecure(input.secure, problems);
  if (secure !== undefined) cookie.secure = secure;
  const sameSite = translateSameSite(input.sameSite, problems);
  if (sameSite !== undefined) cookie.sameSite = sameSite;
  if (input.crossSite !== undefined) cookie.crossSite = input.crossSite as 'deny' | 'allow';
  const maxAgeMs = translateMaxAge(input.maxAge, options, problems);
  return {
    cookie,
    idleTimeoutSeconds: maxAgeMs === null ? undefined : Math.round(maxAgeMs / 1000),
    maxAgeMs,
  };
}

function cookieRefusal(key: string): string {
  if (key === 'domain' || key === 'path') {
    return 'refused: the __Host- prefix requires Path=/ and no Domain, so that no sibling site can set or read the cookie (SM-07)';
  }
  if (key === 'expires') return 'refused: use maxAge (milliseconds)';
  return 'not supported by Strongroom session cookies';
}

function translateSecure(
  value: unknown,
  problems: ConfigProblem[],
): 'always' | 'allow-http-development' | undefined {
  if (value === undefined || value === true) return value === true ? 'always' : undefined;
  // Strongroom's own explicit opt-in, which the manager announces with a warning at start-up.
  if (value === 'allow-http-development') return value;
  if (value !== false && value !== 'auto') {
    problems.push({
      path: 'cookie.secure',
      message: "expected true, false, 'auto' or 'allow-http-development'",
    });
    return undefined;
  }
  if (process.env.NODE_ENV === 'production') {
    problems.push({
      path: 'cookie.secure',
      message: `refused while NODE_ENV is production: ${String(value)} would let session cookies travel over plain HTTP (SM-06); set secure: true, and behind a TLS proxy set Express's trust proxy`,
    });
    return undefined;
  }
  return 'allow-http-development';
}

function translateSameSite(
  value: unknown,
  problems: ConfigProblem[],
): 'lax' | 'strict' | 'none' | undefined {
  if (value === undefined) return undefined;
  if (value === true) return 'strict';
  if (value === 'lax' || value === 'strict' || value === 'none') return value;
  problems.push({
    path: 'cookie.sameSite',
    message:
      value === false
        ? "refused: SameSite is always set, so that no browser default decides (SM-09); use 'lax' (the default) or 'strict'"
        : "expected 'lax', 'strict', 'none' or true",
  });
  return undefined;
}

/**
 * express-session's maxAge is a sliding lifetime; here it is the idle timeout, and the
 * absolute timeout still ends every session, so a maxAge beyond it would promise what the
 * server will not keep.
 */
function translateMaxAge(
  value: unknown,
  options: ExpressSessionOptions,
  problems: ConfigProblem[],
): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1000) {
    problems.push({
      path: 'cookie.maxAge',
      message: 'expected milliseconds, at least 1000 (or null for a browser-session cookie)',
    });
    return null;
  }
  if (options.idleTimeoutSeconds !== undefined) {
    problems.push({
      path: 'cookie.maxAge',
      message: 'set either cookie.maxAge (milliseconds) or idleTimeoutSeconds, not both',
    });
    return null;
  }
  const absolute = options.absoluteTimeoutSeconds ?? DEFAULT_ABSOLUTE_SECONDS;
  if (value / 1000 > absolute) {
    problems.push({
      path: 'cookie.maxAge',
      message: `refused: ${formatDuration(value / 1000)} is longer than the absolute timeout (${formatDuration(absolute)}), which ends every session however active it is (SM-22); raise absoluteTimeoutSeconds to at least ${Math.ceil(value / 1000)}, or lower maxAge`,
    });
    return null;
  }
  return value;
}

function formatDuration(seconds: number): string {
  if (seconds >= 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${Math.round(seconds)} s`;
}
