import type * as NodeCrypto from 'node:crypto';
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SCRYPT_PARAMS } from '../../demo/password-hash.js';
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

/** The scrypt parameters of every derivation the demo runs, recorded by the mock below. */
const derivations: { N: number; r: number; p: number }[] = [];

vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof NodeCrypto>();
  const scrypt = ((...args: Parameters<typeof crypto.scrypt>) => {
    const options = args[3] as { N: number; r: number; p: number };
    derivations.push({ N: options.N, r: options.r, p: options.p });
    return (crypto.scrypt as (...a: unknown[]) => void)(...args);
  }) as typeof crypto.scrypt;
  return { ...crypto, scrypt, default: { ...crypto, scrypt } };
});

/** The work of one derivation: scrypt's cost is proportional to N·r·p. */
function cost({ N, r, p }: { N: number; r: number; p: number }): number {
  return N * r * p;
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
    derivations.length = 0;
    const good = storedHash('tampered@example.com');
    const [, , , , salt, key] = good.split('$');
    for (const params of ['1073741824$8$1', '262144$8$1', '131072$16$1', '131072$8$2', '3$8$1']) {
      const tampered = `scrypt$${params}$${salt}$${key}`;
      db.prepare('UPDATE users SET password_hash = ? WHERE email = ?').run(
        tampered,
        'tampered@example.com',
      );
      await expect(
        users.verifyCredentials('tampered@example.com', 'tampered-password'),
      ).resolves.toBeNull();
    }
    // None of them was derived at the parameters it asked for (or at all).
    expect(derivations).toEqual([]);
  });

  it('[SM-55] a wrong password costs the same work for an unknown email, a current hash and an N=2^14 hash', async () => {
    await users.create('current@example.com', 'current-password');
    await legacyAccount('legacy@example.com', 'legacy-password');
    const work = async (email: string): Promise<number[]> => {
      derivations.length = 0;
      expect(await users.verifyCredentials(email, 'guess-1')).toBeNull();
      return derivations.map(cost);
    };
    const current = cost(SCRYPT_PARAMS);
    expect(await work('nobody@example.com')).toEqual([current]);
    expect(await work('current@example.com')).toEqual([current]);
    // The N=2^14 account also pays one derivation at the current cost, so a failed guess there
    // is not 8 times quicker (which would single out accounts with old hashes).
    expect(await work('legacy@example.com')).toEqual([cost({ N: 2 ** 14, r: 8, p: 1 }), current]);
  });
});
