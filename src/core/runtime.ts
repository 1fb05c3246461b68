import { randomFillSync } from 'node:crypto';

/**
 * The two impure inputs of the core, injectable so that timeout and rotation tests need no
 * sleeps and token tests can be deterministic.
 */
export interface Runtime {
  /** Milliseconds since the Unix epoch. */
  readonly now: () => number;
  /** `size` bytes from a cryptographically secure source. */
  readonly randomBytes: (size: number) => Uint8Array;
}

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * CSPRNG bytes served from a pool refilled 4 KiB at a time (as Node's own `randomUUID` does):
 * a login needs five small values, and one call into OpenSSL per value costs more than the
 * value. Each byte is handed out once and wiped from the pool.
 */
function pooledRandomBytes(size: number): Uint8Array {
  if (size > POOL_BYTES / 16) return randomFillSync(Buffer.allocUnsafe(size));
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  pool.fill(0, offset, offset + size);
  offset += size;
  return bytes;
}

export const systemRuntime: Runtime = {
  now: () => Date.now(),
  randomBytes: pooledRandomBytes,
};
