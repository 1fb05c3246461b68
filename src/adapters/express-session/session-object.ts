import { InvalidArgumentError } from '../../core/errors.js';

/** An express-session style callback: called with the error, or with nothing on success. */
export type SessionCallback = (error?: unknown) => void;

/** What `req.session`'s methods act on: the request's session (request-session.ts). */
export interface SessionOwner {
  readonly id: string | null;
  readonly cookie: SessionCookie;
  regenerate(): Promise<void>;
  destroy(): Promise<void>;
  save(session: ExpressSession): Promise<void>;
  reload(session: ExpressSession): Promise<void>;
  /** A callback threw: the request fails with that error instead of crashing the process. */
  callbackFailed(error: unknown): void;
}

/**
 * `req.session.cookie`: a view of the session cookie. Lifetimes come from the server's
 * deadlines; only the "remember me" choice can be changed.
 */
export interface SessionCookie {
  /**
   * Milliseconds until the session ends if unused (the earlier of its idle and absolute
   * deadlines), or null while nothing is stored. Setting a positive number makes the cookie
   * persistent ("remember me", never past the absolute timeout, SM-10); setting null makes it
   * end with the browser session. The change is saved with the session.
   */
  maxAge: number | null;
  /** When the session ends if unused, or null. Set a Date or `false`/null, as for maxAge. */
  expires: Date | null;
  /** The configured `cookie.maxAge`, or null. */
  readonly originalMaxAge: number | null;
  readonly httpOnly: true;
  /** Whether the cookie is sent with `Secure` (the request came over HTTPS). */
  readonly secure: boolean;
  readonly sameSite: 'lax' | 'strict' | 'none';
  readonly path: '/';
  readonly domain: undefined;
}

/** The methods of `req.session` that are not data; data keys of these names are left out. */
const RESERVED = new Set([
  'id',
  'cookie',
  'regenerate',
  'destroy',
  'save',
  'reload',
  'touch',
  'resetMaxAge',
]);

/**
 * `req.session`: the data as its own enumerable properties (so `Object.keys`, spreading and
 * Passport's `keepSessionInfo` merge see only data) and express-session's methods. Called with
 * a callback, each method returns the session, as express-session's do; called without one, it
 * returns a promise.
 */
export class ExpressSession {
  readonly #owner: SessionOwner;

  constructor(owner: SessionOwner, data: Readonly<Record<string, unknown>>) {
    this.#owner = owner;
    assignData(this, data);
  }

  /** The public session id (never the token), or null while nothing is stored. */
  get id(): string | null {
    return this.#owner.id;
  }

  get cookie(): SessionCookie {
    return this.#owner.cookie;
  }

  /**
   * Starts a new, empty session in place of this one (`req.session` is a new object; this one
   * keeps its data, as Passport's `keepSessionInfo` expects). A signed-in session ends on the
   * server at once; the new one gets its new token and id when it is saved.
   */
  regenerate(callback: SessionCallback): this;
  regenerate(): Promise<void>;
  regenerate(callback?: SessionCallback): this | Promise<void> {
    return this.#settle(this.#owner.regenerate(), callback);
  }

  /** Ends the session on the server and expires the cookie; `req.session` is then undefined. */
  destroy(callback: SessionCallback): this;
  destroy(): Promise<void>;
  destroy(callback?: SessionCallback): this | Promise<void> {
    return this.#settle(this.#owner.destroy(), callback);
  }

  /**
   * Saves the changes now (otherwise they are saved before the response is sent). A change of
   * user is a login or logout; changed keys merge with concurrent writes.
   */
  save(callback: SessionCallback): this;
  save(): Promise<void>;
  save(callback?: SessionCallback): this | Promise<void> {
    return this.#settle(this.#owner.save(this), callback);
  }

  /** Reads the session again from the store, dropping unsaved changes. */
  reload(callback: SessionCallback): this;
  reload(): Promise<void>;
  reload(callback?: SessionCallback): this | Promise<void> {
    return this.#settle(this.#owner.reload(this), callback);
  }

  /** With a callback as express-session (returns this); without one, a promise. */
  #settle(done: Promise<void>, callback: SessionCallback | undefined): this | Promise<void> {
    if (callback === undefined) return done;
    const owner = this.#owner;
    const call = (error?: unknown): void => {
      try {
        callback(error);
      } catch (thrown) {
        owner.callbackFailed(thrown);
      }
    };
    done.then(() => {
      call();
    }, call);
    return this;
  }

  /** Nothing to do: the server extended the idle deadline when it loaded the session. */
  touch(): this {
    return this;
  }

  /** As {@link touch}. */
  resetMaxAge(): this {
    return this;
  }
}

/** Copies stored data onto a session object, leaving out the method names. */
export function assignData(session: ExpressSession, data: Readonly<Record<string, unknown>>): void {
  for (const key of Object.keys(data)) {
    if (!RESERVED.has(key)) (session as unknown as Record<string, unknown>)[key] = data[key];
  }
}

/** The cookie view (see {@link SessionCookie}). */
export class CookieView implements SessionCookie {
  readonly #endsAt: () => Date | null;
  readonly #choose: (persistent: boolean) => void;
  readonly #fixed: Pick<SessionCookie, 'originalMaxAge' | 'secure' | 'sameSite'>;

  // Getters without setters: assigning any other attribute throws instead of doing nothing.
  constructor(
    endsAt: () => Date | null,
    choose: (persistent: boolean) => void,
    fixed: Pick<SessionCookie, 'originalMaxAge' | 'secure' | 'sameSite'>,
  ) {
    this.#endsAt = endsAt;
    this.#choose = choose;
    this.#fixed = fixed;
  }

  get originalMaxAge(): number | null {
    return this.#fixed.originalMaxAge;
  }

  get sameSite(): 'lax' | 'strict' | 'none' {
    return this.#fixed.sameSite;
  }

  get maxAge(): number | null {
    const end = this.#endsAt();
    return end === null ? null : Math.max(0, end.getTime() - Date.now());
  }

  set maxAge(value: number | null) {
    if (value === null || value === undefined) {
      this.#choose(false);
      return;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new InvalidArgumentError(
        'req.session.cookie.maxAge must be positive milliseconds ("remember me") or null (a browser-session cookie); to end the session, call req.session.destroy()',
      );
    }
    this.#choose(true);
  }

  get expires(): Date | null {
    return this.#endsAt();
  }

  set expires(value: Date | false | null) {
    if (value === null || value === false) {
      this.#choose(false);
      return;
    }
    if (!(value instanceof Date) || !(value.getTime() > Date.now())) {
      throw new InvalidArgumentError(
        'req.session.cookie.expires must be a future Date ("remember me"), false or null (a browser-session cookie)',
      );
    }
    this.#choose(true);
  }

  get secure(): boolean {
    return this.#fixed.secure;
  }

  get httpOnly(): true {
    return true;
  }

  get path(): '/' {
    return '/';
  }

  get domain(): undefined {
    return undefined;
  }

  toJSON(): Record<string, unknown> {
    const { originalMaxAge, expires, secure, httpOnly, path, sameSite } = this;
    return { originalMaxAge, expires, secure, httpOnly, path, sameSite };
  }
}
