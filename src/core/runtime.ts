import { randomBytes } from 'node:crypto';

/**
 * The two impure inputs of the core, injectable so that timeout and rotation tests need no
 * sleeps and token tests can be deterministic.
 */
export interface Runtime {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** `size` bytes from a cryptographically secure source. */
  randomBytes(size: number): Uint8Array;
}

export const systemRuntime: Runtime = {
  now: () => Date.now(),
  randomBytes: (size) => randomBytes(size),
};
