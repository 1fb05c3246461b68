/** The scenario table's vocabulary: a scenario is steps, each a request and what must come back. */
import type { SessionManagerOptions } from '../../../src/index.js';

export type CookieState = 'set' | 'cleared' | 'none';
export interface Expect {
  /** The exact status, or `below-500` for hostile input that the server may refuse as it likes. */
  readonly status: number | 'below-500';
  /** Fields the JSON body must have (`toMatchObject`). */
  readonly json?: Readonly<Record<string, unknown>>;
  /** The session cookie in this response: issued (a fresh token), expired, or not mentioned. */
  readonly sessionCookie?: CookieState;
  /** The pre-session CSRF cookie, likewise. */
  readonly csrfCookie?: CookieState;
  /** `none`: the response has no Set-Cookie at all. */
  readonly setCookie?: 'none';
  /** The token issued here differs from the one remembered under this name. */
  readonly newTokenNot?: string;
  /** The body's `sessionId` is the one remembered under a name (`same`), or another (`new`). */
  readonly sessionId?: readonly ['same' | 'new', string];
  readonly noStore?: true;
  readonly retryAfter?: string;
  /** The body's `user` is never this one (hostile input may leave the visitor anonymous). */
  readonly userNot?: string;
  /** Status and user are those of the previous step (order independence). */
  readonly sameAsPrevious?: true;
}
export interface Step {
  readonly send: `${'GET' | 'POST'} /${string}`;
  /** The browser sending it; each keeps its own cookie jar and CSRF token. @default 'A' */
  readonly by?: string;
  /** Seconds the injected clock moves on first. */
  readonly wait?: number;
  /** Switches the store into or out of an outage first. */
  readonly store?: 'down' | 'up';
  readonly form?: Readonly<Record<string, string>>;
  /** Where a POST carries the browser's CSRF token. @default 'header' */
  readonly csrf?: 'header' | 'field' | 'missing' | 'wrong' | 'previous';
  /** `cross-site`: a cross-site page's fetch; `foreign-origin`: its Origin without Fetch Metadata. */
  readonly site?: 'same-origin' | 'cross-site' | 'foreign-origin';
  /** Sends the session cookie remembered under this name instead of the jar (not updated). */
  readonly replay?: string;
  /** Sends these Cookie header line(s) instead of the jar, byte for byte (jar not updated). */
  readonly cookie?: (token: (name: string) => string) => string | readonly string[];
  /** Remembers the browser's session token and the body's `sessionId` under this name after. */
  readonly remember?: string;
  readonly expect: Expect;
}
export interface Scenario {
  readonly title: string;
  readonly options?: Partial<SessionManagerOptions>;
  readonly steps: readonly Step[];
}

export const SID = '__Host-sid';
export const CSRF_COOKIE = '__Host-sid-csrf';
export const EVIL = 'https://evil.test';

export type StepOptions = Omit<Step, 'send' | 'expect'>;

export const step = (send: Step['send'], expect: Expect, more: StepOptions = {}) =>
  ({ send, expect, ...more }) satisfies Step;
export const whoamiIs = (user: string | null, more: StepOptions = {}, also = {}) =>
  step('GET /whoami', { status: 200, json: { user }, ...also }, more);
/** A fresh browser signs in: the login form's token first (SM-45), then the login. */
export const signIn = (by: string, user: string, csrf: Step['csrf'] = 'header'): Step[] => [
  step('GET /csrf', { status: 200, csrfCookie: 'set', sessionCookie: 'none' }, { by }),
  step(
    'POST /login',
    { status: 200, json: { user }, sessionCookie: 'set', noStore: true },
    { by, form: { user }, csrf, remember: `${by}:login` },
  ),
];
export const refused = (send: Step['send'], more: StepOptions = {}) =>
  step(send, { status: 403, json: { error: 'ERR_CSRF' }, setCookie: 'none', noStore: true }, more);
export const note = (value: string) => ({ form: { note: value } });
