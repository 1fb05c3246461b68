import type { ConfigProblem } from './errors.js';
import type { CookieOptions, CSRFOptions, SessionManagerOptions } from './config-options.js';
import type { KeyInput } from './key-ring.js';
import type { Runtime } from './runtime.js';

/**
 * The names of every option, and what to say about a name that is not one: the foreign names
 * of express-session and friends, a did-you-mean for typos, a hint for milliseconds.
 */

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
export const OPTION_NAMES = {
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
export const TYPICAL_SECONDS = { idleTimeoutSeconds: 1800, touchIntervalSeconds: 60 } as const;

/** Refuses every option name that is not in `names`, level by level, with a suggestion. */
export function reportUnknownOptions(
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
export function millisecondsHint(value: number, typical: number): string | null {
  if (value < typical * 1000) return null;
  return `${value} seconds is ${describeSeconds(value)}; durations are in seconds — did you mean ${Math.round(value / 1000)}?`;
}

export function describeSeconds(seconds: number): string {
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
