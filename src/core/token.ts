import type { Runtime } from './runtime.js';

/** 32 bytes of CSPRNG output (SM-01), base64url without padding: always 43 characters. */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** 16 bytes (128 bits): enough to be unguessable, short enough for URLs and logs. */
const SESSION_ID_BYTES = 16;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export function generateToken(runtime: Runtime): string {
  return Buffer.from(runtime.randomBytes(TOKEN_BYTES)).toString('base64url');
}

export function generateSessionId(runtime: Runtime): string {
  return Buffer.from(runtime.randomBytes(SESSION_ID_BYTES)).toString('base64url');
}

/**
 * The exact shape of a token this library issues. Checked before any store lookup (SM-04):
 * the last character is restricted to those that encode 32 bytes canonically, so no two
 * strings decode to the same token.
 */
export function isWellFormedToken(value: string): boolean {
  return value.length === 43 && TOKEN_PATTERN.test(value);
}

export function isWellFormedSessionId(value: string): boolean {
  return value.length === 22 && SESSION_ID_PATTERN.test(value);
}
