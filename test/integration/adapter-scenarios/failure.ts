/** Failure scenarios: a store outage, hostile cookies, and responses no cache may keep. */
import {
  note,
  SID,
  signIn,
  step,
  whoamiIs,
  type Expect,
  type Scenario,
  type Step,
  type StepOptions,
} from './steps.js';

const outage = (send: Step['send'], more: StepOptions = {}) =>
  step(
    send,
    { status: 503, json: { error: 'ERR_STORE_UNAVAILABLE' }, setCookie: 'none', retryAfter: '5' },
    more,
  );
const hostile = (cookie: NonNullable<Step['cookie']>, also: Partial<Expect> = {}) =>
  step('GET /whoami', { status: 'below-500', userNot: 'mallory', ...also }, { cookie });

export const FAILURE_SCENARIOS: readonly Scenario[] = [
  {
    title: '[SM-57] a store outage is a 503 with no Set-Cookie; afterwards nothing was lost',
    steps: [
      ...signIn('A', 'alice'),
      step('POST /data', { status: 200 }, note('kept')),
      outage('GET /whoami', { store: 'down' }),
      outage('POST /data', note('lost')),
      outage('POST /logout'),
      outage('POST /login', { form: { user: 'mallory' } }),
      whoamiIs(null, { by: 'B' }, { setCookie: 'none' }),
      whoamiIs('alice', { store: 'up' }, { json: { user: 'alice', note: 'kept' } }),
    ],
  },
  {
    title: '[SM-04][SM-13][SM-14] hostile cookies never cause a 5xx and never switch users',
    steps: [
      ...signIn('A', 'alice'),
      ...signIn('M', 'mallory'),
      hostile(() => `${SID}=${'x'.repeat(5000)}`),
      hostile(() => `theme=${'y'.repeat(64 * 1024)}`),
      hostile((t) => `${SID}=${t('A:login')}; ${SID}=${t('M:login')}`),
      hostile((t) => `${SID}=${t('M:login')}; ${SID}=${t('A:login')}`, { sameAsPrevious: true }),
      hostile((t) => [`${SID}=${t('A:login')}`, `${SID}=${t('M:login')}`]),
      hostile((t) => `__host-sid=${t('M:login')}; __HOST-SID=${t('M:login')}; ${SID} =x`),
      hostile((t) => `${SID}="${t('A:login')}"`),
      hostile((t) => `${SID}=${t('A:login')}\t`),
      hostile((t) => `${SID}=${t('A:login').slice(0, 20)}\u0000${t('A:login').slice(21)}`),
      hostile((t) => `${SID}=${t('A:login')}\rSet-Cookie: x=y`),
      hostile(() => `${SID}=\u00ff\u00fe\u0080abc; ;;; =x; ${SID}; ${SID}==`),
      hostile((t) => `$Version=1; ${SID}=${t('A:login')}; $Path=/, ${SID}=${t('M:login')}`),
      hostile(() => Array.from({ length: 500 }, (_, i) => `c${i}=v${i}`).join('; ')),
      hostile((t) => `${`${SID}=${'z'.repeat(43)}; `.repeat(50)}${SID}=${t('A:login')}`),
      whoamiIs('alice'),
      whoamiIs('mallory', { by: 'M' }),
    ],
  },
  {
    title: '[SM-47][SM-48] session responses carry Cache-Control: no-store and Vary: Cookie',
    steps: [
      whoamiIs(null, { by: 'B' }, { setCookie: 'none' }),
      ...signIn('A', 'alice'),
      whoamiIs('alice', {}, { setCookie: 'none', noStore: true }),
      step('POST /data', { status: 200, noStore: true }, note('x')),
      step('POST /logout', { status: 204, sessionCookie: 'cleared', noStore: true }),
      whoamiIs(null, {}, { setCookie: 'none' }),
    ],
  },
];
