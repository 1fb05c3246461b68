import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt's cost parameters, stored with every hash so that they can be raised later. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * The OWASP Password Storage Cheat Sheet's minimum for scrypt: N=2^17 (128 MiB), r=8, p=1.
 * Hashes made under older parameters (the demo used N=2^14 before) still verify, and are
 * replaced by one under these on the next successful sign-in.
 */
export const SCRYPT_PARAMS: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

/**
 * scrypt needs 128·N·r bytes (plus a little: OpenSSL counts 128·r·(N+2) + 128·r·p), and Node
 * refuses anything above `maxmem` (32 MiB by default). Twice the current need leaves headroom;
 * a stored hash asking for more is refused (see {@link parseHash}).
 */
const MAX_MEMORY = 2 * 128 * SCRYPT_PARAMS.N * SCRYPT_PARAMS.r;

/** The outcome of {@link verifyPassword}. */
export interface Verification {
  readonly ok: boolean;
  /**
   * When the password matched a hash made under older parameters: its hash under
   * {@link SCRYPT_PARAMS}, to store in place of the old one. Otherwise null.
   */
  readonly rehash: string | null;
}

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/**
 * `scrypt$N$r$p$salt$key` (salt and key base64url) under {@link SCRYPT_PARAMS}.
 *
 * @example
 * ```ts
 * const stored = await hashPassword('correct horse battery staple');
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await deriveKey(password, salt, SCRYPT_PARAMS);
  const { N, r, p } = SCRYPT_PARAMS;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Whether `password` matches `stored`, in constant time for a given hash. A hash made under
 * older (cheaper) parameters costs a second derivation under the current ones whether or not
 * the password matches: that is the rehash on success, and on failure it keeps a wrong guess at
 * such an account about as slow as one at an unknown email (which is checked against a dummy
 * hash under the current parameters), so timing does not single such accounts out.
 *
 * @example
 * ```ts
 * const { ok, rehash } = await verifyPassword(password, row.password_hash);
 * if (ok && rehash !== null) saveHash(row.id, rehash);
 * ```
 */
export async function verifyPassword(password: string, stored: string): Promise<Verification> {
  const parsed = parseHash(stored);
  if (parsed === null) return { ok: false, rehash: null };
  const actual = await deriveKey(password, parsed.salt, parsed.params);
  const ok = timingSafeEqual(actual, parsed.key);
  if (isCurrent(parsed.params)) return { ok, rehash: null };
  const upgraded = await hashPassword(password);
  return { ok, rehash: ok ? upgraded : null };
}

/**
 * The parts of a stored hash, or null when it is malformed or would cost more than a hash under
 * the current parameters: a tampered row must not make one sign-in allocate gigabytes or spin
 * for minutes.
 */
function parseHash(stored: string): ParsedHash | null {
  const [scheme, n, r, p, salt, key, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || key === undefined || rest.length > 0) {
    return null;
  }
  const params = { N: decimal(n), r: decimal(r), p: decimal(p) };
  const { N, r: blockSize, p: parallel } = params;
  const powerOfTwo = N >= 2 && (N & (N - 1)) === 0;
  if (!powerOfTwo || blockSize < 1 || parallel < 1) return null;
  const current = SCRYPT_PARAMS;
  if (N * blockSize > current.N * current.r) return null;
  if (N * blockSize * parallel > current.N * current.r * current.p) return null;
  const parsed = {
    params,
    salt: Buffer.from(salt, 'base64url'),
    key: Buffer.from(key, 'base64url'),
  };
  return parsed.salt.length >= SALT_LENGTH && parsed.key.length === KEY_LENGTH ? parsed : null;
}

/** A small decimal integer, or 0 (never valid) for anything else. */
function decimal(text: string | undefined): number {
  return text !== undefined && /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : 0;
}

function isCurrent(params: ScryptParams): boolean {
  const current = SCRYPT_PARAMS;
  return params.N === current.N && params.r === current.r && params.p === current.p;
}

function deriveKey(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      // NFKC: the same password typed on another keyboard or OS composes to the same bytes.
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { N: params.N, r: params.r, p: params.p, maxmem: MAX_MEMORY },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    );
  });
}
