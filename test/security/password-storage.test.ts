import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUserStore, type UserStore } from '../../demo/users.js';

/**
 * SM-55 (ASVS 11.4.2; OWASP Password Storage Cheat Sheet): the demo's password hashes use at
 * least scrypt N=2^17, r=8, p=1; hashes from before (N=2^14) keep working and are upgraded at
 * the next successful sign-in; and a failed sign-in takes about as long whatever the account.
 */
const CURRENT = /^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/;

/** A hash in the demo's format under other parameters, as an earlier version stored it. */
function hashWith(password: string, params: { N: number; r: number; p: number }): string {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize('NFKC'), salt, 32, {
    ...params,
    maxmem: 64 * 1024 * 1024,
  });
  const { N, r, p } = params;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

async function median(times: number, run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(times / 2)]!;
}

describe('[SM-55] demo password storage', { timeout: 120_000 }, () => {
  let dir: string;
  let path: string;
  let users: UserStore;
  let db: Database.Database;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-passwords-'));
    path = join(dir, 'users.db');
    users = openUserStore({ path });
    db = new Database(path);
  });
  afterAll(() => {
    db.close();
    users.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const storedHash = (email: string): string =>
    (
      db.prepare('SELECT password_hash FROM users WHERE email = ?').get(email) as {
        password_hash: string;
      }
    ).password_hash;

  /** An account whose hash an earlier version of the demo made (N=2^14). */
  async function legacyAccount(email: string, password: string): Promise<string> {
    await users.create(email, 'placeholder-password');
    const legacy = hashWith(password, { N: 2 ** 14, r: 8, p: 1 });
    db.prepare('UPDATE users SET password_hash = ? WHERE email = ?').run(legacy, email);
    return legacy;
  }

  it('[SM-55] new accounts and new passwords are hashed with scrypt N=2^17, r=8, p=1', async () => {
    const user = await users.create('new@example.com', 'new-password-1');
    expect(storedHash('new@example.com')).toMatch(CURRENT);
    await users.setPassword(user.id, 'new-password-2');
    expect(storedHash('new@example.com')).toMatch(CURRENT);
    expect(await users.verifyCredentials('new@example.com', 'new-password-2')).toMatchObject({
      id: user.id,
    });
  });

  it('[SM-55] an N=2^14 hash still verifies, and the successful sign-in replaces it with an N=2^17 one', async () => {
    const legacy = await legacyAccount('old@example.com', 'old-password-1');
    expect(await users.verifyCredentials('old@example.com', 'wrong-password')).toBeNull();
    expect(storedHash('old@example.com')).toBe(legacy);
    expect(await users.verifyCredentials('old@example.com', 'old-password-1')).not.toBeNull();
    const upgraded = storedHash('old@example.com');
    expect(upgraded).toMatch(CURRENT);
    expect(await users.verifyCredentials('old@example.com', 'old-password-1')).not.toBeNull();
    expect(await users.verifyCredentials('old@example.com', 'wrong-password')).toBeNull();
    expect(storedHash('old@example.com')).toBe(upgraded);
  });

  it('[SM-55] the current-password check of a password change upgrades an N=2^14 hash too', async () => {
    await legacyAccount('older@example.com', 'older-password-1');
    const user = users.findByEmail('older@example.com')!;
    expect(await users.verifyPassword(user.id, 'older-password-1')).toBe(true);
    expect(storedHash('older@example.com')).toMatch(CURRENT);
  });

  it('[SM-55] a stored hash asking for more than the current cost is refused, not computed', async () => {
    await users.create('tampered@example.com', 'tampered-password');
    const good = storedHash('tampered@example.com');
    const [, , , , salt, key] = good.split('$');
    for (const params of ['1073741824$8$1', '262144$8$1', '131072$16$1', '131072$8$2', '3$8$1']) {
      const tampered = `scrypt$${params}$${salt}$${key}`;
      db.prepare('UPDATE users SET password_hash = ? WHERE email = ?').run(
        tampered,
        'tampered@example.com',
      );
      const start = performance.now();
      await expect(
        users.verifyCredentials('tampered@example.com', 'tampered-password'),
      ).resolves.toBeNull();
      expect(performance.now() - start, params).toBeLessThan(50);
    }
  });

  it('[SM-55] a wrong password takes about as long for an unknown email, a current hash and an N=2^14 hash', async () => {
    await users.create('current@example.com', 'current-password');
    await legacyAccount('legacy@example.com', 'legacy-password');
    const unknown = await median(3, () => users.verifyCredentials('nobody@example.com', 'guess-1'));
    const current = await median(3, () =>
      users.verifyCredentials('current@example.com', 'guess-1'),
    );
    const legacy = await median(3, () => users.verifyCredentials('legacy@example.com', 'guess-1'));
    // Without the extra derivation the N=2^14 account would answer about 8 times faster.
    expect(current / unknown).toBeGreaterThan(0.6);
    expect(current / unknown).toBeLessThan(1.6);
    expect(legacy / unknown).toBeGreaterThan(0.6);
    expect(legacy / unknown).toBeLessThan(1.8);
  });
});
