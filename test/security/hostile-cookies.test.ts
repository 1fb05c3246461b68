import { describe, expect, it } from 'vitest';
import { readCookies, serializeCookie } from '../../src/core/cookie.js';
import { InvalidArgumentError } from '../../src/index.js';
import { createHarness } from '../support/harness.js';

const SID = '__Host-sid';

async function signedIn(h = createHarness()) {
  const browser = h.browser();
  await browser.visit((s) => s.login('victim'));
  return { h, browser, token: browser.jar.get(SID)! };
}

describe('token format', () => {
  it('[SM-01] tokens are 32 CSPRNG bytes in 43 base64url characters, all distinct', async () => {
    const h = createHarness();
    const tokens = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const { session, cookies } = await h.request(undefined);
      await session.login(`u${i % 7}`);
      const value = cookies
        .get(SID)!
        .split(';')[0]!
        .slice(SID.length + 1);
      expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(value, 'base64url')).toHaveLength(32);
      tokens.add(value);
    }
    expect(tokens.size).toBe(2000);
    // Monobit check over all bits: a gross bias (counter, timestamp, constant prefix) fails it.
    let ones = 0;
    let bits = 0;
    for (const token of tokens) {
      for (const byte of Buffer.from(token, 'base64url')) {
        for (let b = 0; b < 8; b++) ones += (byte >> b) & 1;
        bits += 8;
      }
    }
    expect(Math.abs(ones / bits - 0.5)).toBeLessThan(0.005);
  });

  it('[SM-01][SM-02] tokens come from the injected CSPRNG only and carry no user, time or structure', async () => {
    const seeded = () => {
      let counter = 0;
      return (n: number) => {
        counter++;
        return Uint8Array.from({ length: n }, (_, i) => (counter * 31 + i * 7) & 0xff);
      };
    };
    const first = createHarness({ runtime: { randomBytes: seeded() } });
    const second = createHarness({ runtime: { randomBytes: seeded() } });
    second.clock.advance(86_400);
    const one = await first.request(undefined, { ip: '198.51.100.1', userAgent: 'A' });
    await one.session.login('alice');
    const two = await second.request(undefined, { ip: '203.0.113.9', userAgent: 'B' });
    await two.session.login('bob@example.com');
    // Another user, time, IP and agent: with the same random bytes the token is identical, so
    // nothing but the random source went into it.
    expect(one.cookies.get(SID)).toBe(two.cookies.get(SID));
  });
});

describe('hostile cookie values (H-05, H-06, H-22)', () => {
  const hostile: [string, string][] = [
    ['empty', ''],
    ['one char', 'a'],
    ['42 chars', 'A'.repeat(42)],
    ['44 chars', 'A'.repeat(44)],
    ['4 KiB', 'A'.repeat(4096)],
    ['100 KiB', 'A'.repeat(100 * 1024)],
    ['standard base64', `${'A'.repeat(41)}+/`],
    ['padding', `${'A'.repeat(42)}=`],
    ['%2F', `${'A'.repeat(40)}%2F`],
    ['%00', `${'A'.repeat(40)}%00`],
    ['full-width', `${'A'.repeat(42)}Ａ`],
    ['emoji', `${'A'.repeat(41)}😀`],
    ['raw high bytes', `${'A'.repeat(40)}\u0080\u00ff\u00fe`],
    ['sql', "' OR '1'='1"],
    ['nosql', '{"$ne":null}'],
    ['json cookie', 'j:{"$gt":""}'],
    ['signed cookie', 's:abc.sig'],
    ['path traversal', '../../etc/passwd'],
    ['backslashes', 'a\\b\\c'],
    ['proto', '__proto__'],
    ['constructor', 'constructor'],
    ['glob', '*'],
    ['question', '?'],
    ['non-canonical last char', `${'A'.repeat(42)}B`],
  ];

  it.each(hostile)('[SM-04] %s is anonymous and never reaches the store', async (_name, value) => {
    const h = createHarness();
    const { session } = await h.request(`${SID}=${value}`);
    expect(session.id).toBeNull();
    expect(h.store.calls).toEqual([]);
    expect(h.events.map((e) => e.type)).toEqual(['session.malformed_token']);
    expect(JSON.stringify(h.events)).not.toContain(value.length > 2 ? value : '\u0000');
  });

  it('[SM-04][H-05] a valid token with decoration is not accepted as the token', async () => {
    const { h, token } = await signedIn();
    for (const decorated of [
      `${token}=`,
      `${token} x`,
      `"${token}"`,
      `${token}%20`,
      encodeURIComponent(`${token}/`),
    ]) {
      expect((await h.request(`${SID}=${decorated}`)).session.userId, decorated).toBeNull();
    }
    expect((await h.request(`${SID}=${token}`)).session.userId).toBe('victim');
  });

  it('[H-22] malformed Cookie headers are anonymous, never a throw', async () => {
    const h = createHarness();
    const headers = [
      ';;;',
      '=',
      `=${'A'.repeat(43)}`,
      SID,
      `${SID}==${'A'.repeat(43)}`,
      '$Version=1; $Path=/',
      'a=1, b=2',
      'x'.repeat(64 * 1024),
      Array.from({ length: 500 }, (_, i) => `c${i}=v`).join('; '),
      '\t\u0000\r',
    ];
    for (const header of headers) {
      const { session } = await h.request(header);
      expect(session.id).toBeNull();
    }
  });

  it('[SM-15][H-04] a well-formed but never-issued token is not adopted and its cookie is cleared', async () => {
    const h = createHarness();
    const x = 'Q'.repeat(43);
    const { session, cookies } = await h.request(`${SID}=${x}`);
    expect(session.id).toBeNull();
    expect(cookies.get(SID)).toMatch(/^__Host-sid=; .*Max-Age=0/);
    expect(h.events.map((e) => e.type)).toContain('session.unknown_token');
    await session.login('alice');
    expect(cookies.get(SID)).not.toContain(x);
    expect((await h.request(`${SID}=${x}`)).session.id).toBeNull();
  });
});

describe('duplicate and look-alike cookies', () => {
  it('[SM-13][H-01] victim and attacker tokens together: same outcome in both orders, never the attacker', async () => {
    const h = createHarness();
    const { token: v } = await signedIn(h);
    const attacker = h.browser();
    await attacker.visit((s) => s.login('attacker'));
    const a = attacker.jar.get(SID)!;
    const one = await h.request(`${SID}=${v}; ${SID}=${a}`);
    const two = await h.request(`${SID}=${a}; ${SID}=${v}`);
    expect(one.session.userId).toBeNull();
    expect(two.session.userId).toBeNull();
    expect(h.events.filter((e) => e.type === 'session.duplicate_cookie')).toHaveLength(2);
    // Deleting would only remove the host-only cookie and leave a planted one as the sole
    // candidate next time: nothing is deleted.
    expect(one.cookies.size).toBe(0);
  });

  it('[SM-13][H-02] split Cookie headers: a lone valid token beside garbage still works, in both orders', async () => {
    const { h, token } = await signedIn();
    expect((await h.request([`${SID}=${token}`, `${SID}=garbage`])).session.userId).toBe('victim');
    expect((await h.request([`${SID}=garbage`, `${SID}=${token}`])).session.userId).toBe('victim');
    expect((await h.request([`other=1`, `${SID}=${token}`])).session.userId).toBe('victim');
  });

  it('[SM-13][H-22] more than four session cookies are not looked up at all', async () => {
    const { h, token } = await signedIn();
    const many = Array.from(
      { length: 50 },
      (_, i) => `${SID}=${'Q'.repeat(42)}${'AEIM'[i % 4]}${i}`,
    );
    h.store.calls.length = 0;
    const flood = [
      ...Array.from({ length: 4 }, (_, i) => `${SID}=${'Q'.repeat(42)}${'AEIM'[i]}`),
      `${SID}=${token}`,
    ];
    expect((await h.request(flood.join('; '))).session.userId).toBeNull();
    expect((await h.request(many.join('; '))).session.userId).toBeNull();
    expect(h.store.calls).toEqual([]);
  });

  it('[SM-13] an expired or unknown sibling does not lock the victim out', async () => {
    const { h, token } = await signedIn();
    expect((await h.request(`${SID}=${'Q'.repeat(43)}; ${SID}=${token}`)).session.userId).toBe(
      'victim',
    );
  });

  it('[SM-14][H-03] look-alike names are not the session cookie', async () => {
    const { h, token } = await signedIn();
    for (const name of [
      '__host-sid',
      '__HOST-sid',
      '__Host-SID',
      '__Secure-sid',
      'sid',
      '__Host-sid ',
      ' __Host-sid\u00a0',
      '__Ноst-sid',
    ]) {
      expect((await h.request(`${name}=${token}`)).session.userId, name).toBeNull();
    }
    expect(readCookies(`__Host-sid =${token}`, [SID]).get(SID)).toEqual([]);
    expect(readCookies(`a=1;\t__Host-sid=${token}`, [SID]).get(SID)).toEqual([token]);
    expect(readCookies([`${SID}=${token}`, `${SID}=${token}`], [SID]).get(SID)).toEqual([token]);
  });
});

describe('Set-Cookie serialisation', () => {
  it('[SM-12] refuses names and values that would inject attributes or headers', () => {
    const attributes = { secure: true, sameSite: 'Lax', maxAgeSeconds: null } as const;
    for (const name of ['sid; Max-Age=0; a', 'sid\r\nSet-Cookie: x=y', 'a b', 'a,b', '', 'sid=']) {
      expect(() => serializeCookie(name, 'abc', attributes), name).toThrow(InvalidArgumentError);
    }
    for (const value of ['a;b', 'a b', 'a\r\n', '"a"', 'a,b']) {
      expect(() => serializeCookie('sid', value, attributes), value).toThrow(InvalidArgumentError);
    }
  });

  it('[SM-07][SM-08][SM-11] the session cookie is __Host-, HttpOnly, Secure, Path=/, no Domain, small and plain', async () => {
    const h = createHarness();
    const { session, cookies } = await h.request(undefined);
    await session.login('alice');
    const header = cookies.get(SID)!;
    expect(header).toMatch(
      /^__Host-sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
    );
    expect(header).not.toMatch(/Domain/i);
    expect(header.split(';')[0]!.length).toBeLessThan(4096);
  });

  it('[SM-09] sameSite strict is honoured', async () => {
    const h = createHarness({ cookie: { sameSite: 'strict' } });
    const { session, cookies } = await h.request(undefined);
    await session.login('alice');
    expect(cookies.get(SID)).toContain('SameSite=Strict');
  });
});
