import type { Session, SessionData, UntypedSessionData } from './session.js';

/** The session data key a flash message is kept under. Reserved: do not use it for app data. */
const FLASH_KEY = 'strongroom.flash';

/**
 * One-shot messages across a redirect ("Password changed"), kept in the session data under
 * the reserved key `strongroom.flash`. Works with any {@link Session}, whatever its data type
 * and framework. Both methods are awaited writes, like every session mutation.
 *
 * A message is one value: setting another replaces it. Login starts a new session with none of
 * the pre-login data (SM-18), so set a message after `login()`, not before. Two requests that
 * take at once may both get the message.
 */
export interface Flash<Message> {
  /**
   * Stores `message` (JSON-serialisable) for the next {@link take}. For a visitor without a
   * session this creates one and issues its cookie, as `session.set` does.
   */
  set<Data extends SessionData>(session: Session<Data>, message: Message): Promise<void>;
  /**
   * The stored message, removed from the session in the same call; null, and no write at all,
   * when there is none.
   */
  take<Data extends SessionData>(session: Session<Data>): Promise<Message | null>;
}

/**
 * A flash helper for messages of type `Message`, when plain strings are not enough.
 *
 * @example
 * ```ts
 * const notices = createFlash<{ kind: 'success' | 'error'; text: string }>();
 * await notices.set(session, { kind: 'success', text: 'Password changed' });
 * const notice = await notices.take(session); // the object, then null
 * ```
 */
export function createFlash<Message = string>(): Flash<Message> {
  return {
    async set(session, message) {
      await untyped(session).set(FLASH_KEY, message);
    },
    async take(session) {
      const data = untyped(session).data;
      if (!Object.hasOwn(data, FLASH_KEY)) return null;
      const message = data[FLASH_KEY] as Message;
      await untyped(session).unset(FLASH_KEY);
      return message;
    },
  };
}

/**
 * String flash messages.
 *
 * @example
 * ```ts
 * import { flash } from 'strongroom';
 *
 * app.post('/password', async (req, res) => {
 *   // … change the password, then:
 *   await flash.set(auth.session(req), 'Password changed');
 *   res.redirect(303, '/account');
 * });
 * app.get('/account', async (req, res) => {
 *   res.render('account', { notice: await flash.take(auth.session(req)) }); // once only
 * });
 * ```
 */
export const flash: Flash<string> = createFlash<string>();

/** The reserved key is outside the app's declared data type. */
function untyped<Data extends SessionData>(session: Session<Data>): Session<UntypedSessionData> {
  return session;
}
