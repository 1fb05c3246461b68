import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boundFields } from '../../src/core/sealing.js';
import { resolveKeyRing } from '../../src/core/key-ring.js';
import type { StoredSession } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createHarness, TEST_KEY } from '../support/harness.js';

const SID = '__Host-sid';

async function tamper(
  h: ReturnType<typeof createHarness>,
  id: string,
  change: (s: StoredSession) => StoredSession,
) {
  const current = (await h.store.findById(id))!;
  expect(
    await h.store.update({ ...change(current), version: current.version + 1 }, { retire: null }),
  ).toBe(true);
}

describe('encryption at rest', () => {
  it('[SM-51] the store holds no plaintext data, user agent or IP', async () => {
    const h = createHarness();
    const browser = h.browser({ userAgent: 'SecretAgent/7' });
    const { session } = await browser.visit(async (s) => {
      await s.login('alice');
      await s.set('email', 'alice@example.com');
    });
    const record = JSON.stringify(await h.store.findById(session.id!));
    for (const plain of ['alice@example.com', 'SecretAgent', '203.0.113.7'])
      expect(record).not.toContain(plain);
    expect(record).toContain('"sealed":"k1.');
  });

  it('[SM-51][H-25] a flipped ciphertext byte makes the session invalid and raises an event', async () => {
    const h = createHarness();
    const browser = h.browser();
    const { session } = await browser.visit((s) => s.login('alice'));
    await tamper(h, session.id!, (s) => {
      const raw = Buffer.from(s.sealed.slice(3), 'base64url');
      raw[20] = raw[20]! ^ 1;
      return { ...s, sealed: `k1.${raw.toString('base64url')}` };
    });
    expect((await browser.visit()).session.userId).toBeNull();
    expect(h.events.find((e) => e.type === 'session.tampered')).toMatchObject({
      sessionId: session.id,
    });
  });

  it('[SM-51][H-25] a blob swapped from another record does not authenticate (session id is the AAD)', async () => {
    const h = createHarness();
    const [alice, mallory] = [h.browser(), h.browser()];
    const { session: a } = await alice.visit(async (s) => {
      await s.login('alice');
      await s.set('role', 'admin');
    });
    const { session: m } = await mallory.visit((s) => s.login('mallory'));
    const aliceBlob = (await h.store.findById(a.id!))!.sealed;
    await tamper(h, m.id!, (s) => ({ ...s, sealed: aliceBlob }));
    const { session } = await mallory.visit();
    expect(session.userId).toBeNull();
    expect(session.get('role')).toBeUndefined();
  });

  it('[SM-53][H-25] prototype keys are dropped and a truncated record is an invalid session', async () => {
    const h = createHarness();
    const ring = resolveKeyRing([TEST_KEY], { now: Date.now, randomBytes }, [])!;
    const browser = h.browser();
    const { session } = await browser.visit((s) => s.login('alice'));
    const evil =
      '{"d":{"__proto__":{"admin":true},"nested":{"constructor":{"prototype":{"x":1}}}},"i":null,"u":null,"c":"' +
      'A'.repeat(43) +
      '","p":0,"r":null,"s":1,"f":null}';
    await tamper(h, session.id!, (s) => ({ ...s, sealed: ring.seal(evil, boundFields(s)) }));
    const { session: loaded } = await browser.visit();
    expect(loaded.userId).toBe('alice');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.getPrototypeOf(loaded.data)).toBe(Object.prototype);
    expect((loaded.data as Record<string, unknown>).admin).toBeUndefined();
    expect(loaded.data).toEqual({ nested: {} });

    const cookie = browser.cookieHeader();
    await tamper(h, session.id!, (s) => ({ ...s, sealed: s.sealed.slice(0, 20) }));
    expect((await h.request(cookie)).session.userId).toBeNull();
    await tamper(h, session.id!, (s) => ({ ...s, sealed: ring.seal('{"d":[1]', s.id) }));
    expect((await h.request(cookie)).session.userId).toBeNull();
    expect(h.events.filter((e) => e.type === 'session.tampered')).toHaveLength(2);
  });

  it('[SM-51] after a key rotation old sessions still open and are re-sealed under the new key', async () => {
    const store = createMemoryStore();
    const oldKey = { id: 'old', secret: randomBytes(32).toString('base64url') };
    const before = createHarness({ store, keys: [oldKey] });
    const browser = before.browser();
    const { session } = await browser.visit(async (s) => {
      await s.login('alice');
      await s.set('theme', 'dark');
    });
    expect((await store.findById(session.id!))!.sealed.startsWith('old.')).toBe(true);

    const after = createHarness({
      store,
      keys: [{ id: 'new', secret: randomBytes(32).toString('base64url') }, oldKey],
    });
    const { session: loaded } = await after.request(browser.cookieHeader());
    expect(loaded.get('theme')).toBe('dark');
    expect((await store.findById(session.id!))!.sealed.startsWith('new.')).toBe(true);

    const withoutOld = createHarness({
      store,
      keys: [{ id: 'other', secret: randomBytes(32).toString('base64url') }],
    });
    expect((await withoutOld.request(browser.cookieHeader())).session.userId).toBeNull();
  });

  it('[SM-51] each write uses a fresh nonce', async () => {
    const h = createHarness();
    const browser = h.browser();
    const { session } = await browser.visit((s) => s.login('alice'));
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      await browser.visit((s) => s.set('theme', 'same'));
      seen.add((await h.store.findById(session.id!))!.sealed);
    }
    expect(seen.size).toBe(20);
  });
});

describe('events and logs', () => {
  it('[SM-54] events carry public ids and never a token, CSRF token or data', async () => {
    const h = createHarness({ rotationIntervalSeconds: 5, rotationGraceSeconds: 1 });
    const browser = h.browser();
    const csrfTokens: string[] = [];
    await browser.visit((s) => {
      csrfTokens.push(s.csrfToken());
    });
    await browser.visit(async (s) => {
      await s.login('alice');
      await s.set('secretNote', 'hunter2');
      csrfTokens.push(s.csrfToken());
    });
    const stale = browser.jar.get(SID)!;
    h.clock.advance(6);
    await browser.visit();
    await browser.visit();
    h.clock.advance(2);
    await h.request(`${SID}=${stale}`);
    await h.request(`${SID}=bogus; ${SID}=${'Q'.repeat(43)}`);
    const other = h.browser();
    await other.visit((s) => s.login('alice'));
    await other.visit((s) => s.logout());
    const log = JSON.stringify(h.events);
    for (const secret of [...h.issuedTokens, ...csrfTokens, 'hunter2', 'secretNote'])
      expect(log).not.toContain(secret);
    expect(new Set(h.events.map((e) => e.type))).toEqual(
      new Set([
        'session.authenticated',
        'session.rotated',
        'session.theft_detected',
        'session.malformed_token',
        'session.duplicate_cookie',
        'session.unknown_token',
        'session.logged_out',
      ]),
    );
    for (const event of h.events) expect(event.at).toBeInstanceOf(Date);
  });
});
