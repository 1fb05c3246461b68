/** Lifecycle scenarios: login, logout, logout everywhere, timeouts, rotation and token theft. */
import { note, refused, signIn, step, whoamiIs, type Scenario, type Step } from './steps.js';

const rotated: Step[] = [
  ...signIn('A', 'alice'),
  whoamiIs(
    'alice',
    { wait: 301 },
    { sessionCookie: 'set', newTokenNot: 'A:login', sessionId: ['same', 'A:login'] },
  ),
];
const ROTATION = { rotationIntervalSeconds: 300, rotationGraceSeconds: 30 };

export const LIFECYCLE_SCENARIOS: readonly Scenario[] = [
  {
    title:
      '[SM-16][SM-19] login issues a new token and session id; the old token and CSRF token die',
    steps: [
      step('GET /csrf', { status: 200, csrfCookie: 'set', sessionCookie: 'none' }),
      step(
        'POST /data',
        { status: 200, json: { user: null, note: 'cart' }, sessionCookie: 'set' },
        { ...note('cart'), remember: 'anonymous' },
      ),
      step(
        'POST /login',
        {
          status: 200,
          json: { user: 'alice', note: null },
          sessionCookie: 'set',
          newTokenNot: 'anonymous',
          sessionId: ['new', 'anonymous'],
          noStore: true,
        },
        { form: { user: 'alice' }, remember: 'alice' },
      ),
      whoamiIs(null, { replay: 'anonymous' }, { sessionCookie: 'cleared' }),
      whoamiIs('alice', {}, { sessionId: ['same', 'alice'], noStore: true }),
      refused('POST /data', { ...note('x'), csrf: 'previous' }),
    ],
  },
  {
    title: '[SM-25][SM-31] logout deletes the session on the server and expires the cookie',
    steps: [
      ...signIn('A', 'alice'),
      step('POST /logout', { status: 204, sessionCookie: 'cleared', noStore: true }),
      whoamiIs(null, { replay: 'A:login' }, { sessionCookie: 'cleared' }),
      refused('POST /data', { ...note('back'), replay: 'A:login' }),
      whoamiIs(null, { replay: 'A:login' }),
      whoamiIs(null, {}, { setCookie: 'none' }),
    ],
  },
  {
    title: "[SM-27] logout everywhere ends every session of the user, and no one else's",
    steps: [
      ...signIn('A', 'alice'),
      ...signIn('B', 'alice'),
      ...signIn('C', 'bob'),
      step('POST /logout-everywhere', {
        status: 200,
        json: { revoked: 2 },
        sessionCookie: 'cleared',
        noStore: true,
      }),
      whoamiIs(null, { by: 'B' }, { sessionCookie: 'cleared' }),
      whoamiIs('bob', { by: 'C' }),
      whoamiIs(null, { replay: 'A:login' }),
    ],
  },
  {
    title: '[SM-21] the idle timeout is enforced on the server, and use extends it',
    options: { idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 7200 },
    steps: [
      ...signIn('A', 'alice'),
      whoamiIs('alice', { wait: 590 }),
      whoamiIs('alice', { wait: 590 }),
      whoamiIs(null, { wait: 601 }, { sessionCookie: 'cleared' }),
    ],
  },
  {
    title: '[SM-22] the absolute timeout ends a session however active it is',
    options: { idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 1800 },
    steps: [
      ...signIn('A', 'alice'),
      ...[1, 2, 3].map(() => whoamiIs('alice', { wait: 500 })),
      whoamiIs(null, { wait: 301 }, { sessionCookie: 'cleared' }),
    ],
  },
  {
    title:
      '[SM-18][SM-20] the token rotates after the interval; the old one lasts the grace window',
    options: ROTATION,
    steps: [
      ...rotated,
      whoamiIs('alice', { wait: 10, replay: 'A:login' }),
      whoamiIs('alice', {}, { sessionId: ['same', 'A:login'] }),
    ],
  },
  {
    title: '[SM-20] a rotated-out token back after the grace window revokes the whole session',
    options: ROTATION,
    steps: [
      ...rotated,
      whoamiIs('alice'),
      whoamiIs(null, { wait: 60, replay: 'A:login' }),
      whoamiIs(null, {}, { sessionCookie: 'cleared' }),
    ],
  },
];
