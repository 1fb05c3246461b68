import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseKeyList } from '../../src/index.js';
import { createSQLiteStore } from '../../src/stores/sqlite.js';
import { createHarness } from '../support/harness.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(
    argv,
    (text) => (out += text),
    (text) => (err += text),
  );
  return { code, out, err };
}

describe('strongroom keygen', () => {
  it('prints a usable id:secret of 32 random bytes', async () => {
    const { code, out } = await run('keygen', '--id', 'k2026');
    expect(code).toBe(0);
    expect(out).toMatch(/^k2026:[A-Za-z0-9_-]{43}\n$/);
    const [key] = parseKeyList(out);
    expect(Buffer.from(key!.secret, 'base64url')).toHaveLength(32);
    expect(createHarness({ keys: [key!] }).manager).toBeDefined();
    expect((await run('keygen')).out).not.toBe((await run('keygen')).out);
  });

  it('refuses a bad id or an unknown option with exit code 2', async () => {
    expect((await run('keygen', '--id', 'has space')).code).toBe(2);
    expect((await run('keygen', '--nope')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('help')).out).toContain('revoke-user');
  });
});

describe('administrative commands on a real store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-'));
  const path = join(dir, 'sessions.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function signIn(userId: string): Promise<{ id: string; cookie: string }> {
    const store = createSQLiteStore({ path, purgeIntervalSeconds: 0 });
    const h = createHarness({
      store,
      keys: [{ id: 'k', secret: randomBytes(32).toString('base64url') }],
    });
    h.clock.now = Date.now();
    const browser = h.browser();
    const { session } = await browser.visit((s) => s.login(userId));
    await store.close();
    return { id: session.id!, cookie: browser.cookieHeader()! };
  }

  it('[SM-29][SM-30] lists and revokes a user, revokes one session, and leaves other users alone', async () => {
    const a = await signIn('alice');
    const b = await signIn('alice');
    const bob = await signIn('bob');

    const listed = await run('sessions', 'alice', '--store', path);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain('2 live session(s) of alice');
    expect(listed.out).toContain(a.id);
    expect(listed.out).not.toContain(a.cookie.split('=')[1]);

    expect((await run('revoke-session', b.id, '--store', path)).out).toContain(
      `Revoked session ${b.id}`,
    );
    expect((await run('revoke-session', b.id, '--store', path)).code).toBe(1);
    const revoked = await run('revoke-user', 'alice', '--store', path);
    expect(revoked.out).toBe(`Revoked 1 session(s) of alice: ${a.id}\n`);
    expect((await run('sessions', 'alice', '--store', path)).out).toContain('0 live session(s)');
    expect((await run('sessions', 'bob', '--store', path)).out).toContain(bob.id);
    expect((await run('purge', '--store', path)).out).toBe('Purged 0 expired session(s)\n');
  });

  it('takes session ids that start with a dash', async () => {
    const dashed = `-${'A'.repeat(20)}w`;
    expect(await run('revoke-session', dashed, '--store', path)).toMatchObject({
      code: 1,
      err: `No session ${dashed}\n`,
    });
    expect((await run('revoke-session', '--store', path, '--', `-${dashed}`)).err).toBe(
      `No session -${dashed}\n`,
    );
    expect((await run('revoke-session', '--nope', '--store', path)).code).toBe(2);
  });

  it('needs a store, and says so', async () => {
    const saved = process.env.STRONGROOM_STORE;
    delete process.env.STRONGROOM_STORE;
    try {
      const result = await run('revoke-user', 'alice');
      expect(result.code).toBe(2);
      expect(result.err).toContain('--store is required');
    } finally {
      if (saved !== undefined) process.env.STRONGROOM_STORE = saved;
    }
    expect((await run('purge', '--store', 'ftp://x')).err).toContain('Unsupported store "ftp:"');
  });

  it('refuses a memory store, which only the process that made it can see', async () => {
    const result = await run('purge', '--store', 'memory:');
    expect(result.code).toBe(1);
    expect(result.err).toContain('A memory store lives inside the process that created it');
  });
});
