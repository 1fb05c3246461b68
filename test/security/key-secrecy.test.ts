import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  parseKeyList,
  StrongroomError,
  type SessionEvent,
  type SessionManagerOptions,
} from '../../src/index.js';
import { resolveConfig } from '../../src/core/config.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createHarness, TEST_ORIGIN } from '../support/harness.js';

const RAW = randomBytes(32);
const SECRET = RAW.toString('base64url');
/** The same key as standard base64, which the ring also accepts. */
const SECRET_STD = RAW.toString('base64');
const OLD_SECRET = randomBytes(32).toString('base64url');

/** Every way an error can end up in a log. */
function views(error: unknown): string[] {
  const problems = error instanceof ConfigError ? JSON.stringify(error.problems) : '';
  return [String(error), (error as Error).message, inspect(error), JSON.stringify(error), problems];
}

function expectNoSecret(texts: readonly string[]): void {
  for (const text of texts) {
    for (const secret of [SECRET, SECRET_STD, OLD_SECRET]) {
      expect(text).not.toContain(secret);
      // A prefix is a leak too (a cut-off echo of the value).
      expect(text).not.toContain(secret.slice(0, 12));
    }
  }
}

function configError(options: unknown): unknown {
  try {
    resolveConfig(options as SessionManagerOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error;
  }
  throw new Error('accepted');
}

describe('[SM-54] no error message, problem or event contains a key secret (issue 9)', () => {
  const store = createMemoryStore();
  const csrf = { origins: [TEST_ORIGIN] };

  it.each<[string, Record<string, unknown>]>([
    ['keys as the raw variable', { keys: `k1:${SECRET},k0:${OLD_SECRET}` }],
    ['a single key object', { keys: { id: 'k1', secret: SECRET } }],
    ['an id:secret string in the array', { keys: [`k1:${SECRET}`] }],
    ['an invalid id beside a valid secret', { keys: [{ id: 'has space', secret: SECRET }] }],
    ['a secret that is not base64', { keys: [{ id: 'k1', secret: `${SECRET}!` }] }],
    ['a secret too short', { keys: [{ id: 'k1', secret: SECRET.slice(0, 20) }] }],
    [
      'duplicate ids',
      {
        keys: [
          { id: 'k1', secret: SECRET },
          { id: 'k1', secret: OLD_SECRET },
        ],
      },
    ],
    ['a secret under a wrong field', { keys: [{ id: 'k1', key: SECRET }] }],
    ['express-session secret', { keys: [], secret: SECRET }],
    ['a secret in cookie options', { keys: [], cookie: { secret: SECRET } }],
    [
      'a secret as a cookie name',
      { keys: [{ id: 'k1', secret: SECRET }], cookie: { name: `${SECRET}=` } },
    ],
  ])('ConfigError for %s', (_name, options) => {
    expectNoSecret(views(configError({ store, csrf, ...options })));
  });

  it.each([
    ['no id', SECRET],
    ['an empty id', `:${SECRET}`],
    ['a second entry without an id', `k1:${SECRET},${OLD_SECRET}`],
    ['a stray colon', `k1:${SECRET},k0:`],
  ])('parseKeyList with %s', (_name, value) => {
    let error: unknown;
    try {
      parseKeyList(value);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expectNoSecret(views(error));
  });

  it('the events, warnings and errors of a whole session life', async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const texts: string[] = [];
    try {
      const h = createHarness({
        keys: [
          { id: 'k2', secret: SECRET },
          { id: 'k1', secret: OLD_SECRET },
        ],
        rotationIntervalSeconds: 60,
        rotationGraceSeconds: 5,
        cookie: { secure: 'allow-http-development' },
      });
      const capture = async (run: () => Promise<unknown>): Promise<void> => {
        await run().catch((error: unknown) => {
          expect(error).toBeInstanceOf(StrongroomError);
          texts.push(...views(error));
        });
      };
      const browser = h.browser();
      const { result: token } = await browser.visit(async (s) => {
        await s.login('alice');
        await s.set('note', 'hello');
        return s.csrfToken();
      });
      const cookie = browser.cookieHeader();
      const post = (extra: Record<string, unknown>) => () =>
        h.request(cookie, { method: 'POST', csrfField: token, ...extra });
      await capture(post({ origin: 'https://evil.test' }));
      await capture(post({ fetchSite: 'cross-site' }));
      await capture(post({ csrfField: 'x' }));
      await capture(post({ csrfField: undefined }));
      await capture(post({ secure: false }));
      h.clock.advance(61);
      await browser.visit(); // rotates
      await browser.visit(); // presents the successor
      h.clock.advance(30);
      await capture(() => h.request(cookie)); // the rotated-out token again: theft
      await capture(() => h.request('__Host-sid=AAAA; __Host-sid=BBBB'));
      await capture(() => h.request(`__Host-sid=${'A'.repeat(43)}`));
      const second = h.browser();
      await second.visit((s) => s.login('bob'));
      await second.visit((s) => s.logout());
      await capture(async () => {
        const { session } = await h.request(undefined);
        session.requireFresh();
      });
      expect(new Set(h.events.map((event) => event.type))).toEqual(
        new Set([
          'session.authenticated',
          'csrf.rejected',
          'session.rotated',
          'session.theft_detected',
          'session.malformed_token',
          'session.duplicate_cookie',
          'session.unknown_token',
          'session.logged_out',
        ]),
      );
      texts.push(...h.events.map((event: SessionEvent) => JSON.stringify(event)));
      texts.push(...h.events.map((event: SessionEvent) => inspect(event)));
      texts.push(...emitWarning.mock.calls.map((call) => inspect(call)));
      expect(texts.length).toBeGreaterThan(10);
      expectNoSecret(texts);
    } finally {
      emitWarning.mockRestore();
    }
  });
});
