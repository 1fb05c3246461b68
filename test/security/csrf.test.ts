import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, CSRFError } from '../../src/index.js';
import { resolveConfig } from '../../src/core/config.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createHarness, TEST_KEY, TEST_ORIGIN, type RequestOptions } from '../support/harness.js';

const EVIL = 'https://evil.test';
const SIB = 'https://sib.app.test';

// Origin mismatches emit a process warning (asserted in csrf-diagnostics.test.ts): keep the
// output of the probes below quiet.
beforeAll(() => {
  vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterAll(() => {
  vi.restoreAllMocks();
});

/** Alice signed in, her cookie and a valid token: the victim of every probe. */
async function victim(options: Parameters<typeof createHarness>[0] = {}) {
  const h = createHarness(options);
  const browser = h.browser();
  const { result: token } = await browser.visit(async (s) => {
    await s.login('alice');
    return s.csrfToken();
  });
  const cookie = browser.cookieHeader()!;
  /** An unsafe probe: resolves to the status an adapter would answer, and asserts no change on 403. */
  async function probe(overrides: RequestOptions): Promise<number> {
    const writesBefore = h.store.calls.filter(
      (c) => c.method !== 'findByTokenHash' && c.method !== 'findById',
    ).length;
    const eventsBefore = h.events.length;
    const cookies = new Map<string, string>();
    try {
      await h.manager.load(
        {
          method: 'POST',
          cookieHeader: cookie,
          secure: true,
          ip: null,
          userAgent: null,
          csrfField: token,
          ...overrides,
        },
        { setCookie: (name, header) => cookies.set(name, header) },
      );
      return 303;
    } catch (error) {
      expect(error).toBeInstanceOf(CSRFError);
      // Rails assert_blocked: rejected means nothing changed, and the rejection was logged.
      expect(
        h.store.calls.filter((c) => c.method !== 'findByTokenHash' && c.method !== 'findById'),
      ).toHaveLength(writesBefore);
      expect(cookies.size).toBe(0);
      expect(h.events.slice(eventsBefore).map((e) => e.type)).toContain('csrf.rejected');
      expect((await browser.visit()).session.userId).toBe('alice');
      return (error as CSRFError).status;
    }
  }
  return { h, browser, token, cookie, probe };
}

describe('layer 1: Fetch Metadata (SM-40, H-16)', () => {
  it.each([
    ['cross-site', 403],
    ['same-site', 403],
    ['same-origin', 303],
    ['none', 303],
    ['Cross-Site', 403],
    ['SAME-ORIGIN', 303],
  ])('[SM-40] Sec-Fetch-Site: %s → %i', async (fetchSite, status) => {
    const { probe } = await victim();
    expect(await probe({ fetchSite })).toBe(status);
  });

  it('[SM-40] a foreign Origin is rejected even with same-origin', async () => {
    const { probe } = await victim();
    expect(await probe({ fetchSite: 'same-origin', origin: EVIL })).toBe(403);
    expect(await probe({ fetchSite: 'same-origin', origin: TEST_ORIGIN })).toBe(303);
  });

  it('[SM-40][H-16] unknown, empty or list values count as absent: Origin decides', async () => {
    const { probe } = await victim();
    for (const fetchSite of [
      'bogus',
      '',
      'same-origin, cross-site',
      ['same-origin', 'cross-site'],
    ]) {
      expect(await probe({ fetchSite, origin: TEST_ORIGIN }), String(fetchSite)).toBe(303);
      expect(await probe({ fetchSite, origin: EVIL }), String(fetchSite)).toBe(403);
    }
  });

  it('[SM-43] a trusted origin passes cross-site and same-site; its look-alike does not', async () => {
    const { probe } = await victim({
      csrf: { origins: [TEST_ORIGIN], trustedOrigins: [SIB, 'https://trusted.test'] },
    });
    expect(await probe({ fetchSite: 'same-site', origin: SIB })).toBe(303);
    expect(await probe({ fetchSite: 'cross-site', origin: 'https://trusted.test' })).toBe(303);
    expect(await probe({ fetchSite: 'cross-site', origin: 'https://trusted.test.evil.test' })).toBe(
      403,
    );
    expect(await probe({ fetchSite: 'cross-site' })).toBe(403);
  });
});

describe('layer 1: Origin without Fetch Metadata (SM-41, H-17)', () => {
  it.each([
    ['null', 403],
    ['https://app.test.evil.test', 403],
    ['https://evil.test/app.test', 403],
    ['http://app.test', 403],
    ['https://app.test:8443', 403],
    ['https://sib.app.test', 403],
    ['https://[', 403],
    ['https://app.test@evil.test', 403],
    ['https://app.test/', 403],
    ['https://app.test:443', 303],
    ['https://APP.TEST', 303],
    [TEST_ORIGIN, 303],
  ])('[SM-41] Origin %s → %i', async (origin, status) => {
    const { probe } = await victim();
    expect(await probe({ origin })).toBe(status);
  });

  it('[SM-41][H-17] two Origin headers are rejected', async () => {
    const { probe } = await victim();
    expect(await probe({ origin: [TEST_ORIGIN, TEST_ORIGIN] })).toBe(403);
  });

  it('[SM-44][H-19] the app origin comes from configuration, never from the request', async () => {
    // Host / X-Forwarded-Host are not even inputs of the core: an attacker-chosen Host that
    // matches the attacker's Origin changes nothing.
    const { probe } = await victim();
    expect(await probe({ origin: EVIL })).toBe(403);
  });
});

describe('layer 2: synchronizer token (SM-36..SM-39, H-15)', () => {
  it('[SM-42] with neither header a valid token is required', async () => {
    const { probe, token } = await victim();
    expect(await probe({ csrfField: undefined })).toBe(403);
    expect(await probe({ csrfField: token })).toBe(303);
  });

  it('[SM-36] the token is accepted from the field or the X-CSRF-Token header', async () => {
    const { probe, token } = await victim();
    expect(await probe({ csrfField: undefined, csrfHeader: token })).toBe(303);
    expect(await probe({ csrfField: token, csrfHeader: token })).toBe(303);
  });

  it.each([
    ['empty', ''],
    ['number', 123],
    ['array', []],
    ['object', {}],
    ['null', null],
    ['boolean', true],
    ['duplicated field', ['a', 'b']],
    ['short', 'abc'],
    ['wrong alphabet', '*'.repeat(86)],
    ['too long', 'A'.repeat(100_000)],
  ])('[SM-39][H-15] %s token → 403', async (_name, csrfField) => {
    const { probe } = await victim();
    expect(await probe({ csrfField })).toBe(403);
  });

  it('[SM-39][H-15] header and body that disagree, and a repeated header, are rejected', async () => {
    const { probe, token, h } = await victim();
    const other = h.browser();
    const { result: otherToken } = await other.visit(async (s) => {
      await s.login('alice');
      return s.csrfToken();
    });
    expect(await probe({ csrfField: token, csrfHeader: otherToken })).toBe(403);
    expect(await probe({ csrfField: undefined, csrfHeader: [token, token] })).toBe(403);
    expect(await probe({ csrfField: undefined, csrfHeader: `${token}, ${token}` })).toBe(403);
  });

  it('[SM-38][H-15] one flipped character in the mask or the body fails', async () => {
    const { probe, token } = await victim();
    for (const at of [0, 42, 85]) {
      const flipped = token.slice(0, at) + (token[at] === 'B' ? 'C' : 'B') + token.slice(at + 1);
      expect(await probe({ csrfField: flipped }), `at ${at}`).toBe(403);
    }
  });

  it("[SM-36][H-15] alice's token does not work with bob's session", async () => {
    const { probe, h } = await victim();
    const bob = h.browser();
    const { result: bobToken } = await bob.visit(async (s) => {
      await s.login('bob');
      return s.csrfToken();
    });
    expect(await probe({ csrfField: bobToken })).toBe(403);
  });

  it('[SM-19][H-15] the pre-login token stops working at login', async () => {
    const h = createHarness();
    const browser = h.browser();
    const { result: preLogin } = await browser.visit((s) => s.csrfToken());
    const post = (csrfField: string) =>
      h.request(browser.cookieHeader(), { method: 'POST', csrfField, fetchSite: 'same-origin' });
    await expect(post(preLogin)).resolves.toBeDefined();
    await browser.visit((s) => s.login('alice'));
    await expect(post(preLogin)).rejects.toMatchObject({ reason: 'token-invalid' });
  });

  it('[SM-45][H-28] login CSRF: an anonymous cross-site POST is rejected before any cookie is set', async () => {
    const h = createHarness();
    await expect(
      h.request(undefined, { method: 'POST', fetchSite: 'cross-site', origin: EVIL }),
    ).rejects.toMatchObject({ code: 'ERR_CSRF', reason: 'cross-site' });
    // Same-origin but no pre-session token (the attacker cannot read the victim's): rejected.
    await expect(
      h.request(undefined, { method: 'POST', fetchSite: 'same-origin', csrfField: 'x' }),
    ).rejects.toBeInstanceOf(CSRFError);
    expect(h.store.calls).toEqual([]);
  });

  it('[SM-45] a login form rendered before any session validates through the pre-session cookie', async () => {
    const h = createHarness();
    const browser = h.browser();
    const { result: token } = await browser.visit((s) => s.csrfToken());
    const { session, cookies } = await h.request(browser.cookieHeader(), {
      method: 'POST',
      fetchSite: 'same-origin',
      origin: TEST_ORIGIN,
      csrfField: token,
    });
    await session.login('alice');
    expect(cookies.get('__Host-sid')).toMatch(/^__Host-sid=[A-Za-z0-9_-]{43};/);
  });

  it('[SM-26] a form rendered before the session expired still passes, and the request is anonymous', async () => {
    const { h, cookie, token } = await victim({ idleTimeoutSeconds: 60 });
    h.clock.advance(61);
    const { session } = await h.request(cookie, {
      method: 'POST',
      csrfField: token,
      fetchSite: 'same-origin',
    });
    expect(session.userId).toBeNull();
    await expect(session.logout()).resolves.toBeUndefined();
    // Once deleted, the record's secret is gone: a replay is rejected.
    await expect(h.request(cookie, { method: 'POST', csrfField: token })).rejects.toBeInstanceOf(
      CSRFError,
    );
  });

  it('[SM-35] every method but GET, HEAD and OPTIONS is checked', async () => {
    const { probe } = await victim();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'post', 'PROPFIND']) {
      expect(await probe({ method, csrfField: undefined }), method).toBe(403);
    }
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      expect(await probe({ method, csrfField: undefined, fetchSite: 'cross-site' }), method).toBe(
        303,
      );
    }
  });

  it('a rejected request does not rotate, touch or re-seal the session', async () => {
    const { probe, h } = await victim({ rotationIntervalSeconds: 5, idleTimeoutSeconds: 100 });
    h.clock.advance(30);
    expect(await probe({ csrfField: undefined })).toBe(403);
  });

  it('requests marked skip (webhooks) are not checked; protection "off" checks nothing', async () => {
    const { probe } = await victim();
    expect(await probe({ csrfField: undefined, fetchSite: 'cross-site', csrf: 'skip' })).toBe(303);
    const off = await victim({ csrf: { protection: 'off' } });
    expect(await off.probe({ csrfField: undefined, fetchSite: 'cross-site' })).toBe(303);
  });
});

describe('configuration (SM-43)', () => {
  const problems = (csrf: unknown): string[] => {
    try {
      resolveConfig({ store: createMemoryStore(), keys: [TEST_KEY], csrf } as never);
      return [];
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems.map((p) => p.path);
    }
  };

  it.each([
    '*',
    'null',
    'https://*.app.test',
    'https://app.test/',
    'https://app.test/path',
    'https://app.test?q',
    'https://app.test#f',
    'app.test',
    'https://',
    '',
    ' https://app.test',
    'https://app.test:443',
    'ftp://app.test',
    'https://APP.test',
  ])('[SM-43] refuses trusted origin %j', (origin) => {
    expect(problems({ origins: [TEST_ORIGIN], trustedOrigins: [origin] })).toEqual([
      'csrf.trustedOrigins[0]',
    ]);
  });

  it('requires the app origins while protection is on, says how to fix, and accepts exact ones', () => {
    expect(problems({})).toEqual(['csrf.origins']);
    expect(problems({ origins: ['https://app.test/'] })).toEqual(['csrf.origins[0]']);
    expect(problems({ protection: 'off' })).toEqual([]);
    expect(
      problems({
        origins: ['https://app.test', 'http://localhost:3000'],
        trustedOrigins: ['https://sib.app.test'],
      }),
    ).toEqual([]);
    expect(() => resolveConfig({ store: createMemoryStore(), keys: [TEST_KEY] })).toThrow(
      /csrf\.origins: list the origins/,
    );
  });

  it('[SM-44] refuses an empty csrf.origins while protection is on: every browser POST would fail', () => {
    expect(problems({ origins: [] })).toEqual(['csrf.origins']);
    expect(problems({ origins: [], trustedOrigins: [SIB] })).toEqual(['csrf.origins']);
    expect(problems({ protection: 'off', origins: [] })).toEqual([]);
    expect(() =>
      resolveConfig({ store: createMemoryStore(), keys: [TEST_KEY], csrf: { origins: [] } }),
    ).toThrow(
      'csrf.origins: is empty, so every POST, PUT, PATCH and DELETE from a browser would be refused; list the origins the app is served from, e.g. ["https://app.example"] (or set csrf.protection to "off")',
    );
  });
});

describe('simple content types (SM-46, H-21)', () => {
  it('[SM-46] a cross-origin text/plain POST carrying JSON is refused whatever its body: the token layer never relies on preflight', async () => {
    const { probe } = await victim();
    // A page on EVIL can send text/plain without a preflight, but can neither read the token
    // nor set X-CSRF-Token without one.
    expect(await probe({ origin: EVIL, csrfField: undefined })).toBe(403);
    expect(await probe({ fetchSite: 'cross-site', csrfField: undefined })).toBe(403);
    // Even same-origin, a body nobody parsed for `_csrf` carries no token: refused.
    expect(await probe({ fetchSite: 'same-origin', csrfField: undefined })).toBe(403);
  });
});
