import { randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';

/** A source of `size` cryptographically secure random bytes. */
export type RandomBytes = (size: number) => Uint8Array;

const SECRET_BYTES = 32;
/** base64url of mask ‖ (secret XOR mask): 64 bytes, 86 characters. */
const TOKEN_LENGTH = 86;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{85}[AQgw]$/;

export function generateCSRFSecret(randomBytes: RandomBytes = nodeRandomBytes): string {
  return Buffer.from(randomBytes(SECRET_BYTES)).toString('base64url');
}

/**
 * A token for one response: a fresh one-time pad XOR the secret, so that compressed responses
 * do not leak the secret byte by byte (BREACH, SM-38). Every render differs; all validate.
 */
export function maskCSRFToken(secret: string, randomBytes: RandomBytes = nodeRandomBytes): string {
  const raw = Buffer.from(secret, 'base64url');
  const mask = Buffer.from(randomBytes(raw.length));
  const masked = Buffer.alloc(raw.length);
  for (let i = 0; i < raw.length; i++) masked[i] = (raw[i] as number) ^ (mask[i] as number);
  return Buffer.concat([mask, masked]).toString('base64url');
}

/** Whether `token` has exactly the shape {@link maskCSRFToken} produces. */
export function isWellFormedCSRFToken(token: unknown): token is string {
  return typeof token === 'string' && token.length === TOKEN_LENGTH && TOKEN_PATTERN.test(token);
}

/**
 * Whether `token` was masked from `secret`. Rejects anything that is not exactly the shape
 * we emit before touching the secret, and compares in constant time (SM-36, SM-39).
 */
export function verifyCSRFToken(token: unknown, secret: string): boolean {
  if (!isWellFormedCSRFToken(token)) return false;
  const bytes = Buffer.from(token, 'base64url');
  const expected = Buffer.from(secret, 'base64url');
  if (bytes.length !== SECRET_BYTES * 2 || expected.length !== SECRET_BYTES) return false;
  const unmasked = Buffer.alloc(SECRET_BYTES);
  for (let i = 0; i < SECRET_BYTES; i++) {
    unmasked[i] = (bytes[i] as number) ^ (bytes[i + SECRET_BYTES] as number);
  }
  return timingSafeEqual(unmasked, expected);
}
