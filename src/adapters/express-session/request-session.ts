import type { NextFunction, Request, Response } from 'express';
import { InvalidArgumentError, isStrongroomError } from '../../core/errors.js';
import type { Session } from '../../core/session.js';
import type { CompatSettings } from './options.js';
import { saveBeforeResponding } from './save-before-responding.js';
import { assignData, CookieView, ExpressSession, type SessionOwner } from './session-object.js';

type Data = Record<string, unknown>;

/** The request's `req.session`, `req.sessionID` and `req.csrfToken()`, as the app sees them. */
export interface CompatRequest {
  session: ExpressSession | null | undefined;
  sessionID: string | null;
  csrfToken: () => string;
}

const HEADERS_SENT =
  'The session changed in a way that needs a new cookie (sign-in, sign-out, a new session) after the response headers were sent: await req.session.save() before writing the body';

/**
 * One request's session behind the express-session surface. The app changes `req.session`
 * freely; each save compares it with what is stored and writes only the difference through
 * the Strongroom session: changed keys merge with concurrent writes, and a change of user
 * (by default Passport's `passport.user`) is a `login()` — new token and session id — or a
 * `logout()`, which ends the session on the server.
 *
 * Operations run one after another, so that a save the app did not await and the save at the
 * end of the response never interleave. Once the session ended (destroyed, or found logged
 * out or revoked by a write), nothing is written for this request again: stale data in
 * `req.session` can never sign anyone back in (SM-31).
 */
export class RequestSession implements SessionOwner {
  readonly #native: Session;
  readonly #settings: CompatSettings;
  readonly #req: CompatRequest & Pick<Request, 'secure'>;
  readonly #next: NextFunction;
  #current: ExpressSession;
  /** The data as stored, as JSON: what a save compares with. */
  #saved: string;
  /** The user the stored data names. */
  #savedUser: string | null;
  #regenerating = false;
  /** A "remember me" choice made through `req.session.cookie`, to apply at the next save. */
  #persistent: boolean | null = null;
  #ended = false;
  #cookie: CookieView | null = null;
  #tail: Promise<void> | null = null;
  #busy = 0;

  constructor(native: Session, settings: CompatSettings, req: Request, next: NextFunction) {
    this.#native = native;
    this.#settings = settings;
    this.#req = req;
    this.#next = next;
    this.#saved = JSON.stringify(native.data);
    const data = this.#saved === '{}' ? {} : (JSON.parse(this.#saved) as Data);
    this.#savedUser = this.#userOf(data);
    this.#current = new ExpressSession(this, data);
  }

  /**
   * Puts `req.session` and `req.sessionID` on the request (`csrfToken` is the caller's: one
   * function for every request), and saves before `res` responds.
   */
  attach(res: Response, csrfToken: () => string): void {
    const req = this.#req;
    req.session = this.#current;
    req.sessionID = this.#native.id;
    req.csrfToken = csrfToken;
    saveBeforeResponding(res, this);
  }

  /** The save before the response goes out, or null when there is nothing to save. */
  saveAtEnd(res: Response): Promise<void> | null {
    if (this.#busy === 0 && !this.#changed()) return null;
    return this.#serial(() => this.#finish(res));
  }

  /** The save before the response failed: nothing more is written, the app's handlers answer. */
  saveFailed(error: unknown): void {
    this.#ended = true;
    this.#next(error);
  }

  get id(): string | null {
    return this.#regenerating ? null : this.#native.id;
  }

  get cookie(): CookieView {
    this.#cookie ??= new CookieView(
      () => this.#endsAt(),
      (persistent) => {
        this.#persistent = persistent;
      },
      {
        originalMaxAge: this.#settings.maxAgeMs,
        secure: this.#req.secure,
        sameSite: this.#settings.sameSite,
      },
    );
    return this.#cookie;
  }

  regenerate(): Promise<void> {
    return this.#serial(async () => {
      // A signed-in session ends now, whatever happens to this request; an anonymous one is
      // replaced in the same store step as the save that follows (usually a login).
      if (this.#native.userId !== null) await this.#native.logout();
      this.#regenerating = true;
      this.#saved = '{}';
      this.#savedUser = null;
      this.#current = new ExpressSession(this, {});
      this.#req.session = this.#current;
      this.#req.sessionID = null;
    });
  }

  destroy(): Promise<void> {
    this.#ended = true;
    this.#req.session = undefined;
    this.#req.sessionID = null;
    return this.#serial(() => this.#native.logout());
  }

  save(session: ExpressSession): Promise<void> {
    return this.#serial(() => this.#write(session));
  }

  reload(session: ExpressSession): Promise<void> {
    return this.#serial(async () => {
      if (session !== this.#current || this.#regenerating) return;
      await this.#native.reload();
      this.#saved = JSON.stringify(this.#native.data);
      for (const key of Object.keys(session)) delete (session as unknown as Data)[key];
      assignData(session, JSON.parse(this.#saved) as Data);
    });
  }

  callbackFailed(error: unknown): void {
    this.#next(error);
  }

  async #finish(res: Response): Promise<void> {
    if (!this.#changed()) return;
    if (res.headersSent && this.#needsCookie()) throw new InvalidArgumentError(HEADERS_SENT);
    const session = this.#req.session;
    if (session === this.#current) {
      await this.#write(session);
      return;
    }
    // `req.session = null`: the `unset` option decides.
    this.#ended = true;
    if (this.#settings.unset === 'destroy') await this.#native.logout();
  }

  #changed(): boolean {
    if (this.#ended) return false;
    const session = this.#req.session;
    if (session !== this.#current) return this.#settings.unset === 'destroy';
    return (
      this.#regenerating || this.#persistent !== null || JSON.stringify(session) !== this.#saved
    );
  }

  #needsCookie(): boolean {
    const session = this.#req.session;
    return (
      session !== this.#current ||
      this.#regenerating ||
      this.#persistent !== null ||
      this.#native.id === null ||
      this.#userOf({ ...session }) !== this.#savedUser
    );
  }

  async #write(session: ExpressSession): Promise<void> {
    if (this.#ended || session !== this.#current) return;
    const saved = JSON.stringify(session);
    const data: Data = { ...session };
    const user = this.#userOf(data);
    if (this.#regenerating || user !== this.#savedUser) {
      await this.#replace(data, user);
    } else if (saved !== this.#saved) {
      await this.#native.update(changedKeys(data, this.#saved));
    }
    await this.#applyPersistence();
    this.#saved = saved;
    this.#savedUser = user;
    this.#req.sessionID = this.#native.id;
  }

  /** A new user signs in with this data, or the session ends and the data starts anew. */
  async #replace(data: Data, user: string | null): Promise<void> {
    this.#regenerating = false;
    const native = this.#native;
    if (user !== null) {
      const persistent = this.#persistent ?? this.#settings.persistentLogins;
      this.#persistent = null;
      await native.login(user, { data, cookie: persistent ? 'persistent' : 'browser-session' });
      return;
    }
    if (native.id !== null) await native.logout();
    if (Object.keys(data).length > 0) await native.update(data);
  }

  async #applyPersistence(): Promise<void> {
    const persistent = this.#persistent;
    this.#persistent = null;
    const native = this.#native;
    if (persistent === null || native.id === null || persistent === native.isPersistent) return;
    // The cookie's lifetime changes only with a cookie that carries the token: a new one.
    await native.regenerate({ cookie: persistent ? 'persistent' : 'browser-session' });
  }

  #endsAt(): Date | null {
    const native = this.#native;
    const idle = native.idleExpiresAt;
    const absolute = native.absoluteExpiresAt;
    if (idle === null || absolute === null || this.#regenerating) return null;
    return idle < absolute ? idle : absolute;
  }

  #userOf(data: Data): string | null {
    const custom = this.#settings.userId;
    const user = custom === null ? passportUser(data) : custom(data);
    if (typeof user === 'number' && Number.isFinite(user)) return String(user);
    if (typeof user === 'string' && user.length > 0) return user;
    if (user !== undefined && user !== null) this.#settings.unrecognisedUser();
    return null;
  }

  /** Runs `operation` after the ones before it; a session found ended stays ended. */
  #serial(operation: () => Promise<void>): Promise<void> {
    this.#busy++;
    const run = (this.#tail ?? Promise.resolve()).then(operation).then(
      () => {
        this.#busy--;
      },
      (error: unknown) => {
        this.#busy--;
        if (isStrongroomError(error, 'ERR_SESSION_ENDED')) this.#ended = true;
        throw error;
      },
    );
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/** Passport keeps the serialized user in `passport.user`: a string, a number or an object's id. */
function passportUser(data: Data): unknown {
  const passport = data.passport as { user?: unknown } | null | undefined;
  const user = typeof passport === 'object' && passport !== null ? passport.user : undefined;
  if (typeof user === 'object' && user !== null) return (user as { id?: unknown }).id ?? user;
  return user;
}

/** The keys whose value differs from the stored one; removed keys map to undefined. */
function changedKeys(data: Data, savedJSON: string): Data {
  const saved = JSON.parse(savedJSON) as Data;
  const patch: Data = {};
  for (const key of Object.keys(data)) {
    if (JSON.stringify(data[key]) !== JSON.stringify(saved[key])) patch[key] = data[key];
  }
  for (const key of Object.keys(saved)) {
    if (!Object.hasOwn(data, key)) patch[key] = undefined;
  }
  return patch;
}
