import { InvalidArgumentError } from '../../core/errors.js';
import type { CookieSink } from '../../core/request.js';
import type { Session, SessionData } from '../../core/session.js';
import {
  ANSWER_HEADERS,
  jsonBody,
  type AnswerBody,
  type ErrorAnswer,
} from '../shared/error-answers.js';
import { CACHE_CONTROL_PRIVATE, isSessionPrivate, varyFor } from '../shared/response-headers.js';
import { loginLocation, UNAUTHENTICATED_BODY, type LoginRedirect } from '../shared/require-user.js';
import { mergeSetCookies } from '../shared/set-cookie.js';
import { prefersHTML } from '../shared/accept.js';
import { requestTarget } from './request.js';

/**
 * A loaded session and what its response needs: the sink the core hands Set-Cookie headers to,
 * and {@link apply}, which puts them (with `Vary` and `Cache-Control`) on the app's response.
 * One object per request, for the sink and the result alike.
 */
export class LoadedWebSession<Data extends SessionData> implements CookieSink {
  /** Set once, right after the manager loaded it. */
  session!: Session<Data>;
  readonly #method: string;
  #cookies: Map<string, string> | null = null;
  #applied = false;

  constructor(method: string) {
    this.#method = method;
  }

  setCookie(name: string, header: string): void {
    if (this.#applied) {
      // The browser would keep a token whose session may already be gone (or never learn the
      // new one): a session call that was not awaited before the response is a bug to surface.
      throw new InvalidArgumentError(
        'The session changed after its response was completed; await session calls before returning the response',
      );
    }
    (this.#cookies ??= new Map()).set(name, header);
  }

  /**
   * Adds our Set-Cookie headers, the session's `Vary` entries and, for a private response,
   * `Cache-Control: no-store` to `response` and returns it; an immutable response
   * (`Response.redirect()`, a `fetch()` result) is copied first. A network error
   * (`Response.error()`) is returned as it is.
   */
  apply(response: Response): Response {
    if (response.status === 0) return response;
    this.#applied = true;
    const vary = mergeVary(varyFor(this.#method), response.headers.get('vary'));
    let target = response;
    try {
      target.headers.set('Vary', vary);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      target = mutableCopy(response);
      target.headers.set('Vary', vary);
    }
    const cookies = this.#cookies;
    if (cookies !== null) setCookies(target.headers, cookies);
    // SM-48: a response that sets or clears our cookies, or that a stored session produced.
    if (cookies !== null || isSessionPrivate(this.session))
      target.headers.set('Cache-Control', CACHE_CONTROL_PRIVATE);
    return target;
  }
}

/** The same response with headers that can change: same status, status text, body and headers. */
function mutableCopy(response: Response): Response {
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: new Headers(response.headers),
  });
}

/**
 * The app's Set-Cookie headers minus any of our names (a copied or forged session cookie never
 * competes with the real one), then ours.
 */
function setCookies(headers: Headers, ours: ReadonlyMap<string, string>): void {
  const theirs = headers.getSetCookie();
  if (theirs.length > 0) headers.delete('Set-Cookie');
  for (const header of theirs.length > 0 ? mergeSetCookies(theirs, ours) : ours.values())
    headers.append('Set-Cookie', header);
}

/** `Vary` with our entries first, then the response's own, each named once (SM-47). */
export function mergeVary(ours: string, theirs: string | null): string {
  if (theirs === null || theirs.trim() === '') return ours;
  const seen = new Set<string>();
  const entries: string[] = [];
  for (const part of `${ours},${theirs}`.split(',')) {
    const entry = part.trim();
    const key = entry.toLowerCase();
    if (entry === '' || seen.has(key)) continue;
    seen.add(key);
    entries.push(entry);
  }
  return entries.join(', ');
}

/** A complete answer in place of whatever the app meant to send, labelled by its body. */
function answerResponse(status: number, headers: Headers, body: AnswerBody | null): Response {
  if (body === null) return new Response(null, { status, headers });
  headers.set('Content-Type', body.contentType);
  for (const [name, value] of ANSWER_HEADERS) headers.set(name, value);
  return new Response(body.text, { status, headers });
}

/**
 * A Strongroom error's answer as a Response, `Vary` included: an error raised while loading
 * has no app response to merge with.
 */
export function errorAnswerResponse(answer: ErrorAnswer, method: string): Response {
  const headers = new Headers();
  for (const [name, value] of answer.headers) headers.set(name, value);
  const vary = varyFor(method);
  headers.set('Vary', answer.varyAccept ? `${vary}, Accept` : vary);
  return answerResponse(answer.status, headers, answer.body);
}

/**
 * What a guard answers a visitor who is not signed in: `303` to the login page for a client
 * that prefers HTML, `401` JSON for any other; uncached, and varying on `Accept` (SM-48).
 */
export function unauthenticatedResponse(request: Request, redirect: LoginRedirect): Response {
  const headers = new Headers({
    'Cache-Control': CACHE_CONTROL_PRIVATE,
    Vary: `${varyFor(request.method)}, Accept`,
  });
  if (!prefersHTML(request.headers.get('accept')))
    return answerResponse(401, headers, jsonBody(UNAUTHENTICATED_BODY));
  headers.set('Location', loginLocation(redirect, request.method, requestTarget(request.url)));
  return answerResponse(303, headers, null);
}
