/**
 * What every response of the scenario table is checked against: the step's own expectations,
 * and on every answer the caching headers (SM-47, SM-48) and cookie attributes (SM-06 to SM-10).
 */
import { expect } from 'vitest';
import { parseSetCookie, type HttpResponse } from '../../support/raw-http.js';
import { CSRF_COOKIE, SID, type CookieState, type Step } from './steps.js';

/** What a step remembered under a name, for later steps to replay or compare. */
export interface Remembered {
  readonly token: string | undefined;
  readonly sessionId: unknown;
}
export interface CheckContext {
  readonly label: string;
  readonly memory: ReadonlyMap<string, Remembered>;
  readonly previous: HttpResponse | undefined;
}

export function checkResponse(step: Step, response: HttpResponse, context: CheckContext): void {
  const { expect: wanted, send: request } = step;
  const { label, memory } = context;
  const { status, json } = response;
  if (wanted.status === 'below-500') expect(status, label).toBeLessThan(500);
  else expect(status, label).toBe(wanted.status);
  // Node itself refuses some hostile heads (400, 431) before any app code runs.
  if (wanted.status !== 'below-500' || (status !== 400 && status !== 431))
    checkCaching(request, response, label, wanted.noStore);
  if (wanted.json !== undefined) expect(json, label).toMatchObject(wanted.json);
  if (wanted.userNot !== undefined) expect(json?.user, label).not.toBe(wanted.userNot);
  if (wanted.sameAsPrevious) {
    const before = context.previous;
    expect([status, json?.user], label).toEqual([before?.status, before?.json?.user]);
  }
  if (wanted.retryAfter !== undefined)
    expect(response.headers.get('retry-after'), label).toEqual([wanted.retryAfter]);
  if (wanted.setCookie === 'none') expect(response.setCookies, label).toEqual([]);
  const issued = checkCookie(response, SID, wanted.sessionCookie, label);
  checkCookie(response, CSRF_COOKIE, wanted.csrfCookie, label);
  if (wanted.newTokenNot !== undefined) {
    expect(issued, `${label}: a new token`).toBeDefined();
    expect(issued, label).not.toBe(memory.get(wanted.newTokenNot)?.token);
  }
  if (wanted.sessionId !== undefined) {
    const [relation, name] = wanted.sessionId;
    const before = memory.get(name)?.sessionId;
    expect(before, `${label}: session id remembered as ${name}`).toEqual(expect.any(String));
    if (relation === 'same') expect(json?.sessionId, label).toBe(before);
    else expect(json?.sessionId, label).not.toBe(before);
    expect(json?.sessionId, label).toEqual(expect.any(String));
  }
}

/**
 * SM-47: every answer depends on the cookie, an unsafe request's on the CSRF headers too, each
 * named once. SM-48: no cache may keep an answer that sets or clears our cookies, shows a
 * signed-in user or reports a Strongroom error.
 */
function checkCaching(
  request: string,
  response: HttpResponse,
  label: string,
  noStore?: true,
): void {
  const vary = (response.headers.get('vary') ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase());
  const needed = request.startsWith('POST') ? ['origin', 'sec-fetch-site', 'cookie'] : ['cookie'];
  expect(vary, `${label}: Vary`).toEqual(expect.arrayContaining(needed));
  expect(new Set(vary).size, `${label}: Vary without duplicates`).toBe(vary.length);
  const ours = response.setCookies.some((h) => [SID, CSRF_COOKIE].includes(parseSetCookie(h).name));
  const error = response.json?.error;
  const signedIn = typeof response.json?.user === 'string';
  if (noStore || ours || signedIn || (typeof error === 'string' && error.startsWith('ERR_')))
    expect(response.headers.get('cache-control'), `${label}: Cache-Control`).toEqual(['no-store']);
}

/** Checks one of our cookies in a response against `state`; returns the value it issued. */
function checkCookie(
  response: HttpResponse,
  name: string,
  state: CookieState | undefined,
  label: string,
): string | undefined {
  const headers = response.setCookies.map(parseSetCookie).filter((c) => c.name === name);
  expect(headers.length, `${label}: one Set-Cookie at most for ${name}`).toBeLessThanOrEqual(1);
  const cookie = headers[0];
  if (state === undefined) return cookie?.value || undefined;
  if (state === 'none' || cookie === undefined) {
    expect(cookie?.value, `${label}: ${name} should be ${state}`).toBe(
      state === 'none' ? undefined : '',
    );
    return undefined;
  }
  const { value, attributes } = cookie;
  // SM-06 to SM-10: Secure, HttpOnly, Lax, Path=/, no Domain; a browser-session cookie.
  expect([...attributes.keys()].sort(), `${label}: ${name} attributes`).toEqual(
    state === 'set'
      ? ['httponly', 'path', 'samesite', 'secure']
      : ['expires', 'httponly', 'max-age', 'path', 'samesite', 'secure'],
  );
  expect(attributes.get('path'), label).toBe('/');
  expect(attributes.get('samesite')?.toLowerCase(), label).toBe('lax');
  if (state === 'cleared') {
    expect([value, attributes.get('max-age')], `${label}: ${name} cleared`).toEqual(['', '0']);
    return undefined;
  }
  expect(value, `${label}: ${name} value`).toMatch(name === SID ? /^[A-Za-z0-9_-]{43}$/ : /./);
  return value;
}
