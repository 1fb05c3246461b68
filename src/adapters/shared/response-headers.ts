import { isUnsafeMethod } from '../../csrf/request-check.js';

/**
 * The `Vary` entries of every response that went through the session middleware. Every answer
 * depends on the cookie (even an anonymous page must not be served from a shared cache to a
 * signed-in user), and an unsafe request's on the CSRF headers too (SM-47).
 */
export function varyFor(method: string): string {
  return isUnsafeMethod(method) ? 'Origin, Sec-Fetch-Site, Cookie' : 'Cookie';
}

/**
 * The `Cache-Control` of every response that carries or depends on a session: one that sets or
 * clears a session cookie, one for a visitor with a stored session, an error answer, and the
 * guard's answer to a visitor who is not signed in. Such responses are never cached (SM-48).
 */
export const CACHE_CONTROL_PRIVATE = 'no-store';

/** Whether a loaded session makes the response private: the visitor has a stored session. */
export function isSessionPrivate(session: { readonly id: string | null }): boolean {
  return session.id !== null;
}
