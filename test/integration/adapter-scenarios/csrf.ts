/** CSRF scenarios: where a valid token is accepted, and what is refused, login included. */
import { note, refused, signIn, step, whoamiIs, type Scenario } from './steps.js';

export const CSRF_SCENARIOS: readonly Scenario[] = [
  {
    title: '[SM-36] CSRF: a valid token is accepted from the X-CSRF-Token header',
    steps: [
      ...signIn('A', 'alice'),
      step('POST /data', { status: 200, json: { note: 'hi' } }, note('hi')),
    ],
  },
  {
    title: '[SM-36][SM-45] CSRF: a valid token is accepted from the _csrf form field',
    steps: [
      ...signIn('A', 'alice', 'field'),
      step('POST /data', { status: 200, json: { note: 'hi' } }, { ...note('hi'), csrf: 'field' }),
    ],
  },
  {
    title:
      '[SM-26][SM-38][SM-39][SM-40][SM-41] CSRF: a missing or wrong token, or a cross-site Origin, is a 403 that changes nothing',
    steps: [
      ...signIn('A', 'alice'),
      step('POST /data', { status: 200 }, note('mine')),
      refused('POST /data', { ...note('evil'), csrf: 'missing' }),
      refused('POST /data', { ...note('evil'), csrf: 'wrong' }),
      refused('POST /data', { ...note('evil'), site: 'cross-site' }),
      refused('POST /data', { ...note('evil'), site: 'foreign-origin' }),
      refused('POST /logout', { csrf: 'missing' }),
      whoamiIs('alice', {}, { json: { user: 'alice', note: 'mine' }, setCookie: 'none' }),
    ],
  },
  {
    title: '[SM-45] login CSRF: a cross-site login is refused and issues no session',
    steps: [
      step('GET /csrf', { status: 200, csrfCookie: 'set' }),
      refused('POST /login', { form: { user: 'mallory' }, site: 'cross-site' }),
      refused('POST /login', { form: { user: 'mallory' }, csrf: 'missing' }),
      whoamiIs(null, {}, { setCookie: 'none' }),
    ],
  },
];
