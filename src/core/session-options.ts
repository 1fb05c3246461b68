/**
 * The constraint on application data: an object type whose values are JSON-serialisable.
 * Declare it as an interface (`interface AppData { cart: string[] }`) and every key and value
 * is type-checked; without one, sessions hold {@link UntypedSessionData}.
 */
export type SessionData = object;
export type UntypedSessionData = Record<string, unknown>;

export interface LoginOptions<Data extends SessionData> {
  /**
   * Keys of the pre-login data to carry into the new session (a cart, a return URL). Nothing
   * else survives login: pre-login data never grants privileges (SM-18).
   * @default []
   */
  readonly keep?: readonly (keyof Data & string)[];
  /**
   * `persistent` sets Max-Age so the cookie survives a browser restart ("remember me"), never
   * past the absolute timeout (SM-10).
   * @default 'browser-session'
   */
  readonly cookie?: 'browser-session' | 'persistent';
  /** Data to store in the new session, in the same write as the login. */
  readonly data?: Partial<Data>;
  /**
   * The credential the login was checked against (the password hash just verified, or a
   * credential version), when the manager has `currentCredential`: a keyed fingerprint of it
   * is sealed into the session and compared on every request (SM-28). Pass exactly what
   * `currentCredential` returns for the user, read in the same step as the password check.
   */
  readonly credential?: string;
}

export interface RegenerateOptions {
  /** The user's new credential, after a password change (see {@link LoginOptions.credential}). */
  readonly credential?: string;
  /**
   * Switches the cookie between `persistent` ("remember me", never past the absolute timeout)
   * and `browser-session`, e.g. when the choice is made after login. Default: unchanged.
   */
  readonly cookie?: 'browser-session' | 'persistent';
}
