import type { FastifyReply } from 'fastify';
import { InvalidArgumentError } from '../../core/errors.js';
import type { CookieSink } from '../../core/request.js';
import { headerValues, mergeSetCookies } from '../shared/set-cookie.js';

/**
 * Our Set-Cookie headers of one reply by cookie name, shared by every adapter instance (two
 * managers in one scope), and whether the reply's `onSend` has merged them already. Both are
 * declared with `decorateReply`, so that every reply has the same shape and a reply that never
 * sets a cookie allocates nothing.
 */
export const OUR_COOKIES = Symbol('strongroom.cookies');
export const SENDING = Symbol('strongroom.sending');
export type ReplyState = FastifyReply & {
  [OUR_COOKIES]?: Map<string, string> | null;
  [SENDING]?: boolean;
};

/**
 * Where the core puts the cookies of one request: the reply's headers at once (so that
 * `reply.getHeader('set-cookie')` shows them), and again in `onSend` ({@link mergeOurCookies}),
 * after the app has set its own.
 */
export class ReplyCookieSink implements CookieSink {
  readonly #reply: ReplyState;

  constructor(reply: FastifyReply) {
    this.#reply = reply;
  }

  setCookie(name: string, header: string): void {
    const reply = this.#reply;
    // After onSend the headers are as good as written: a cookie set now would be lost, and the
    // browser would keep a token whose session is gone.
    if (reply[SENDING] === true || reply.sent || reply.raw.headersSent) {
      throw new InvalidArgumentError(
        'The session changed after the reply was sent; await session calls before replying',
      );
    }
    let ours = reply[OUR_COOKIES];
    if (ours === undefined || ours === null) reply[OUR_COOKIES] = ours = new Map();
    ours.set(name, header);
    writeCookies(reply, ours);
  }
}

/**
 * The `onSend` part: our cookies merged into the reply last, whatever the app set meanwhile
 * (its cookies of our names are dropped, its others kept). Returns whether it set any.
 */
export function mergeOurCookies(reply: FastifyReply): boolean {
  const state = reply as ReplyState;
  state[SENDING] = true;
  const ours = state[OUR_COOKIES];
  if (ours === undefined || ours === null) return false;
  writeCookies(reply, ours);
  return true;
}

/**
 * `reply.getHeader` answers with the app's Set-Cookie on the reply or, failing that, the one on
 * `reply.raw`; Fastify's headers replace the raw ones when it writes the head, so the merged
 * list is written in place of both.
 */
function writeCookies(reply: FastifyReply, ours: ReadonlyMap<string, string>): void {
  const theirs = headerValues(reply.getHeader('set-cookie'));
  const merged = mergeSetCookies(theirs, ours);
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', merged);
}
