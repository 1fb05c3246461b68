import { serializeCookie, type CookieAttributes, type SameSite } from './cookie.js';
import type { CookieSink, RequestContext } from './request.js';
import type { StoredSession } from './store.js';

/**
 * The one place Strongroom's Set-Cookie headers come from: the session cookie and the
 * pre-session CSRF cookie, issued and expired, with names and attributes from the
 * configuration (SM-07 to SM-10).
 */
export class SessionCookies {
  readonly #baseName: string;
  readonly #sameSite: SameSite;

  constructor(options: { readonly cookieName: string; readonly sameSite: SameSite }) {
    this.#baseName = options.cookieName;
    this.#sameSite = options.sameSite;
  }

  /** `__Host-` whenever the cookie is Secure (SM-07); the bare name only in http development. */
  sessionName(secure: boolean): string {
    return this.#name(secure, '');
  }

  csrfName(secure: boolean): string {
    return this.#name(secure, '-csrf');
  }

  /** Issues the session cookie; "remember me" never outlives the absolute deadline (SM-10). */
  issueSession(
    sink: CookieSink,
    request: RequestContext,
    token: string,
    record: Pick<StoredSession, 'absoluteExpiresAt'>,
    options: { readonly persistent: boolean; readonly now: number },
  ): void {
    const maxAge = options.persistent
      ? Math.floor((record.absoluteExpiresAt - options.now) / 1000)
      : null;
    const name = this.sessionName(request.secure);
    sink.setCookie(name, serializeCookie(name, token, this.#attributes(request, maxAge)));
  }

  /** Issues the pre-session CSRF cookie, for the browser session only (SM-45). */
  issuePreSession(sink: CookieSink, request: RequestContext, secret: string): void {
    const name = this.csrfName(request.secure);
    sink.setCookie(name, serializeCookie(name, secret, this.#attributes(request, null)));
  }

  expireSession(sink: CookieSink, request: RequestContext): void {
    this.#expire(sink, request, this.sessionName(request.secure));
  }

  expirePreSession(sink: CookieSink, request: RequestContext): void {
    this.#expire(sink, request, this.csrfName(request.secure));
  }

  #expire(sink: CookieSink, request: RequestContext, name: string): void {
    sink.setCookie(name, serializeCookie(name, '', this.#attributes(request, 0)));
  }

  #name(secure: boolean, suffix: string): string {
    return `${secure ? '__Host-' : ''}${this.#baseName}${suffix}`;
  }

  #attributes(request: RequestContext, maxAgeSeconds: number | null): CookieAttributes {
    return { secure: request.secure, sameSite: this.#sameSite, maxAgeSeconds };
  }
}
