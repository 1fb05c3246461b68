import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { readCookies } from '../../core/cookie.js';
import {
  ConfigError,
  InvalidArgumentError,
  StoreUnavailableError,
  type ConfigProblem,
} from '../../core/errors.js';
import type { ExpressSession } from './session-object.js';

type Data = Record<string, unknown>;

/** What the upgrade needs of an express-session store (connect-redis, connect-pg-simple, …). */
export interface LegacySessionStore {
  get(sid: string, callback: (error: unknown, session?: Data | null) => void): void;
  destroy(sid: string, callback?: (error?: unknown) => void): void;
}

export interface LegacyUpgradeOptions {
  /** The express-session store the app used until now. */
  readonly store: LegacySessionStore;
  /** express-session's `secret` (or its list of secrets): the old cookies are signed with it. */
  readonly secret: string | readonly string[];
  /** express-session's cookie name. @default 'connect.sid' */
  readonly name?: string;
  /** The old cookie's Path and Domain, to expire it. @default { path: '/' } */
  readonly cookie?: { readonly path?: string; readonly domain?: string };
  /**
   * What of the old session's data the new one starts with.
   * @default its `passport` key, so a Passport user stays signed in
   */
  readonly carry?: (data: Readonly<Data>) => Data;
}

/**
 * For the weeks after the cut-over from express-session: a browser that still holds an
 * express-session cookie (and nothing in its Strongroom session yet) is signed in afresh from
 * the old session, which is then destroyed in the old store. The new session has its own token
 * and id (it is a login); the old cookie is expired either way, and a forged or unknown one is
 * simply ignored. Mount it right after `expressSession()` and before `passport.session()`;
 * remove it once the old sessions have expired. Unsafe requests are CSRF-checked before it
 * runs, so pages rendered before the cut-over must be loaded again (any GET upgrades).
 *
 * @throws {StoreUnavailableError} (503) the old store failed: nothing is signed in.
 * @example
 * ```ts
 * app.use(session, upgradeLegacySessions({ store: oldRedisStore, secret: process.env.OLD_SECRET }));
 * app.use(passport.session());
 * ```
 */
export function upgradeLegacySessions(options: LegacyUpgradeOptions): RequestHandler {
  const { store, name = 'connect.sid', carry = passportOnly } = options;
  const secrets = resolveSecrets(options);
  const expired = { path: options.cookie?.path ?? '/', domain: options.cookie?.domain };
  return (req, res, next) => {
    const values = readCookies(req.headers.cookie, [name]).get(name) ?? [];
    if (values.length === 0) {
      next();
      return;
    }
    res.clearCookie(name, expired.domain === undefined ? { path: expired.path } : expired);
    const sid = values.map((value) => unsign(value, secrets)).find((id) => id !== null);
    if (sid === undefined) {
      next();
      return;
    }
    upgrade(req, store, sid, carry).then(() => {
      next();
    }, next);
  };
}

async function upgrade(
  req: Request,
  store: LegacySessionStore,
  sid: string,
  carry: (data: Readonly<Data>) => Data,
): Promise<void> {
  const session = (req as { session?: ExpressSession }).session;
  if (session === undefined) {
    throw new InvalidArgumentError('Mount upgradeLegacySessions() after expressSession()');
  }
  const data = await legacyCall<Data | null | undefined>((done) => {
    store.get(sid, done);
  });
  // Single use: the old session ends whatever happens next.
  await legacyCall<void>((done) => {
    store.destroy(sid, done);
  });
  // A visitor who already has a Strongroom session keeps it.
  if (data == null || Object.keys(session).length > 0) return;
  const carried = carry(data);
  if (Object.keys(carried).length === 0) return;
  Object.assign(session, carried);
  await session.save();
}

function passportOnly(data: Readonly<Data>): Data {
  return data.passport === undefined ? {} : { passport: data.passport };
}

/**
 * express-session's cookie value: `s:<id>.<HMAC-SHA256(id) base64 without padding>`,
 * URL-encoded (cookie-signature's format). Null when it is not signed by one of `secrets`.
 */
function unsign(raw: string, secrets: readonly string[]): string | null {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return null;
  }
  const dot = value.lastIndexOf('.');
  if (!value.startsWith('s:') || dot < 2) return null;
  const sid = value.slice(2, dot);
  const given = Buffer.from(value.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(
      createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, ''),
    );
    if (given.length === expected.length && timingSafeEqual(given, expected)) return sid;
  }
  return null;
}

function resolveSecrets(options: LegacyUpgradeOptions): readonly string[] {
  const problems: ConfigProblem[] = [];
  const secrets: unknown[] = Array.isArray(options.secret) ? options.secret : [options.secret];
  if (secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s.length > 0)) {
    problems.push({ path: 'secret', message: "express-session's secret: a string or strings" });
  }
  const store = options.store as Partial<LegacySessionStore> | undefined;
  if (typeof store?.get !== 'function' || typeof store.destroy !== 'function') {
    problems.push({ path: 'store', message: 'the express-session store the app used until now' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secrets as string[];
}

function legacyCall<T>(run: (done: (error: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    run((error, value) => {
      if (error)
        reject(new StoreUnavailableError('legacy express-session store', { cause: error }));
      else resolve(value as T);
    });
  });
}
